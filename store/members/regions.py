"""The registry's region column: a city (市, 地区, 自治州, 盟), optionally followed by a county (区, 县,
县级市, 旗), e.g. 杭州市西湖区, 金华市义乌市; a province alone (浙江省) for units registered at the
provincial level (浙江 is 浙江省). A leading province before a city is allowed and ignored (浙江省杭州市 is 杭州市).
The importer rejects other spellings with the row's line (store/members/table.py); the registry's
figures group units by city, then county (store/members/stats.py)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from store.members.index import PROVINCES

_MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
_FULL_NAMES = {
    **{p: p + "省" for p in PROVINCES},
    **{m: m + "市" for m in _MUNICIPALITIES},
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
    "香港": "香港特别行政区",
    "澳门": "澳门特别行政区",
}
_PROVINCE = re.compile(
    rf"({'|'.join(PROVINCES)})(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)"
)
_CITY = r"[\u4e00-\u9fff]{1,10}?(?:市|地区|自治州|盟)"
_COUNTY = r"[\u4e00-\u9fff]{1,12}?(?:自治县|自治旗|林区|特区|新区|区|县|市|旗)"
_CITY_COUNTY = re.compile(rf"({_CITY})({_COUNTY})?")
_COUNTY_ONLY = re.compile(_COUNTY)
_SEPARATORS = re.compile(r"[\s/|\\,，、·\-—>＞]+")


@dataclass(frozen=True)
class Region:
    """A unit's place: the city (or the province, for provincial units) and the county ("" when the
    unit is registered at the city's or province's own level)."""

    city: str
    county: str = ""


def clean(text: str) -> str:
    """The region as stored: full-width to half-width, separators and spaces removed."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "").strip())


@lru_cache(maxsize=4096)
def parse(text: str) -> Region | None:
    """The city and county a region names; None for an empty region. ValueError when it is not a
    city optionally followed by a county (or a province alone, with or without its 省)."""
    rest = clean(text)
    if not rest:
        return None
    if rest in _FULL_NAMES:  # a province without its 省 (浙江)
        return Region(_FULL_NAMES[rest])
    province = _PROVINCE.match(rest)
    if province:
        if province.group(1) in _MUNICIPALITIES and province.group(2) == "市":
            # 上海市浦东新区: a municipality is the city, its districts the counties.
            county = rest[province.end() :]
            if not county or _COUNTY_ONLY.fullmatch(county):
                return Region(province.group(0), county)
            raise ValueError(rest)
        if province.end() == len(rest):
            return Region(province.group(0))
        rest = rest[province.end() :]
    found = _CITY_COUNTY.fullmatch(rest)
    if found is None:
        raise ValueError(rest)
    return Region(found.group(1), found.group(2) or "")
