"""数据统计 (datacube): which endpoints cover a day, how to cut a range of days into queries each endpoint
accepts, and what their answers say, as plain rows (store/reading/ keeps them).

- Followers: getusersummary (new and cancelled by source) and getusercumulate, both 7 days a query
  (https://developers.weixin.qq.com/doc/offiaccount/Analytics/User_Analysis_Data_Interface.html).
- Articles from 2025-11-01, the 发表内容 statistics, which count silent publishes too: getarticleread and
  getarticleshare (every article's readers and sharers of one day), getarticletotaldetail (the articles
  published on a day, with their totals up to each day since: title, URL, favourites)
  (https://developers.weixin.qq.com/doc/subscription/api/wedata/news/api_getarticleread,
  https://developers.weixin.qq.com/doc/subscription/api/wedata/news/api_getarticleshare,
  https://developers.weixin.qq.com/doc/subscription/api/wedata/news/api_getarticletotaldetail); invalid
  before that day.
- Articles before it, the legacy 图文分析 (mass-sent articles only): getarticlesummary (each article's
  figures of one day) and getarticletotal (the articles sent on a day, with totals)
  (https://developers.weixin.qq.com/doc/offiaccount/Analytics/Graphic_Analysis_Data_Interface.html).
- Reads by hour, the one hourly figure WeChat gives (account-wide, mass-sent only): getuserreadhour.
Dates: a query spans at most `DATACUBE_SPANS[name]` days and ends yesterday at the latest, and
yesterday is ready from 08:00 Beijing time; 61501 = date range refused, 61503 = not ready yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from wechat.limits import (
    DATACUBE_LEGACY_ARTICLE_DAYS,
    DATACUBE_LEGACY_START,
    DATACUBE_NEW_ARTICLE_DAYS,
    DATACUBE_NEW_START,
    DATACUBE_READY_HOUR,
    DATACUBE_SPANS,
)

RANGE_REFUSED = 61501
NOT_READY = 61503
BEIJING = ZoneInfo("Asia/Shanghai")  # WeChat's days and its 08:00 are Beijing's
ALL_SOURCES = 99999999  # getuserread(hour)'s user_source for "all channels"

FOLLOWERS = ("getusersummary", "getusercumulate")
NEW_ARTICLES = ("getarticleread", "getarticleshare", "getarticletotaldetail")
LEGACY_ARTICLES = ("getarticlesummary", "getarticletotal")
HOURS = ("getuserreadhour",)
# The endpoints whose answer for a day grows as the days after it pass (totals up to each later day):
# asked again until the article's figures stop (30 days for 发表内容, 7 for the legacy ones).
TOTALS = {"getarticletotaldetail": DATACUBE_NEW_ARTICLE_DAYS, "getarticletotal": DATACUBE_LEGACY_ARTICLE_DAYS}


def last_ready(now: datetime) -> date:
    """The latest day whose figures exist at `now`: yesterday from 08:00 Beijing time, else the day before."""
    local = now.astimezone(BEIJING)
    return local.date() - timedelta(days=1 if local.hour >= DATACUBE_READY_HOUR else 2)


def start_of(endpoint: str) -> date:
    return DATACUBE_NEW_START if endpoint in NEW_ARTICLES else DATACUBE_LEGACY_START


def endpoints_for(day: date) -> tuple[str, ...]:
    """The endpoints the product asks for `day`: the 发表内容 ones from their start, the legacy ones before."""
    articles = NEW_ARTICLES if day >= DATACUBE_NEW_START else LEGACY_ARTICLES
    return FOLLOWERS + articles + HOURS


def ranges(days: Iterable[date], span: int) -> list[tuple[date, date]]:
    """`days` as (begin, end) queries of at most `span` consecutive days each."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and d - out[-1][1] == timedelta(days=1) and (d - out[-1][0]).days < span:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def span(endpoint: str) -> int:
    return DATACUBE_SPANS[endpoint]


# --- the answers, as rows ------------------------------------------------------------------------


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _index(msgid: str) -> tuple[str, int]:
    data_id, _, index = str(msgid).rpartition("_")
    return data_id, int(index)


def article(msgid: str, sent_on: date, title: str, url: str = "", notified: bool | None = None) -> dict:
    data_id, index = _index(msgid)
    return {"msgid": str(msgid), "msg_data_id": data_id, "idx": index, "sent_on": sent_on, "title": title[:200],
            "content_url": url[:1024], "notified": notified}


def follower_sources(rows: list[dict]) -> list[dict]:
    return [{"ref_date": _day(r["ref_date"]), "user_source": int(r.get("user_source", 0)),
             "new_user": int(r.get("new_user", 0)), "cancel_user": int(r.get("cancel_user", 0))} for r in rows]


def follower_days(rows: list[dict]) -> list[dict]:
    """getusercumulate; a day may come once per user_source (the community reports `user_source: 0`
    rows): the figures are summed per day."""
    days: dict[date, int] = {}
    for r in rows:
        d = _day(r["ref_date"])
        days[d] = days.get(d, 0) + int(r.get("cumulate_user", 0))
    return [{"ref_date": d, "cumulate_user": n} for d, n in days.items()]


def article_reads(rows: list[dict]) -> list[dict]:
    """getarticleread → (msgid, day, read_user)."""
    return [{"msgid": str(r["msgid"]), "ref_date": _day(r["ref_date"]),
             "read_user": int((r.get("detail") or {}).get("read_user", 0))} for r in rows]


def article_shares(rows: list[dict]) -> list[dict]:
    """getarticleshare → (msgid, day, share_user)."""
    return [{"msgid": str(r["msgid"]), "ref_date": _day(r["ref_date"]),
             "share_user": int((r.get("detail") or {}).get("share_user", 0))} for r in rows]


def total_details(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """getarticletotaldetail → (articles, totals by stat_date). publish_type 0 = followers notified."""
    articles, totals = [], []
    for r in rows:
        articles.append(article(r["msgid"], _day(r["ref_date"]), str(r.get("title", "")),
                                str(r.get("content_url", "")), int(r.get("publish_type", 0)) == 0))
        for d in r.get("detail_list") or []:
            totals.append({"msgid": str(r["msgid"]), "stat_date": _day(d["stat_date"]),
                           "read_user": int(d.get("read_user", 0)), "share_user": int(d.get("share_user", 0)),
                           "fav_user": int(d.get("collection_user", 0))})
    return articles, totals


def article_summary(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """getarticlesummary → (articles seen, with their titles; each article's figures of the day). The
    sending day is not in the answer: until getarticletotal says, it is the first day seen."""
    articles, days = [], []
    for r in rows:
        d = _day(r["ref_date"])
        articles.append(article(r["msgid"], d, str(r.get("title", "")), notified=True))
        days.append({"msgid": str(r["msgid"]), "ref_date": d, "read_user": int(r.get("int_page_read_user", 0)),
                     "read_count": int(r.get("int_page_read_count", 0)), "share_user": int(r.get("share_user", 0)),
                     "share_count": int(r.get("share_count", 0)), "fav_user": int(r.get("add_to_fav_user", 0)),
                     "fav_count": int(r.get("add_to_fav_count", 0))})
    return articles, days


def article_total(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """getarticletotal → (the articles sent on the day, their totals by stat_date)."""
    articles, totals = [], []
    for r in rows:
        articles.append(article(r["msgid"], _day(r["ref_date"]), str(r.get("title", "")), notified=True))
        for d in r.get("details") or []:
            totals.append({"msgid": str(r["msgid"]), "stat_date": _day(d["stat_date"]),
                           "read_user": int(d.get("int_page_read_user", 0)),
                           "share_user": int(d.get("share_user", 0)), "fav_user": int(d.get("add_to_fav_user", 0))})
    return articles, totals


def read_hours(rows: list[dict]) -> list[dict]:
    """getuserreadhour's all-channels rows."""
    return [{"ref_date": _day(r["ref_date"]), "ref_hour": int(r.get("ref_hour", 0)),
             "read_user": int(r.get("int_page_read_user", 0)), "read_count": int(r.get("int_page_read_count", 0)),
             "share_user": int(r.get("share_user", 0)), "share_count": int(r.get("share_count", 0))}
            for r in rows if int(r.get("user_source", ALL_SOURCES)) == ALL_SOURCES]
