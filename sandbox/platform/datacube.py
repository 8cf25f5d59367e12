"""数据统计 (`POST /datacube/<name>`, body `{"begin_date", "end_date"}`): the legacy user and article
statistics (getusersummary, getusercumulate, getarticlesummary, getarticletotal, getuserread,
getuserreadhour, getusershare, getusersharehour) and the 发表内容 ones (getarticleread, getarticleshare,
getbizsummary, getarticletotaldetail), answering with figures.py's numbers under the real endpoints' rules:

- a date that is not YYYY-MM-DD → 61500 date format error;
- begin after end, a range longer than the endpoint's span (limits.DATACUBE_SPANS), an end after yesterday
  or a begin before the data start (2014-12-01; 2025-11-01 for 发表内容) → 61501 date range error (the code
  for the last two: unconfirmed);
- yesterday's data before 08:00 platform time → 61503 data not ready (for 发表内容: unconfirmed);
- the legacy article statistics count mass-sent articles only, the 发表内容 ones silent publishes too;
- an unverified account → 48001 (unconfirmed code; the statistics are for verified accounts).
Days, articles and channels without figures have no rows (getusercumulate has one for every day).

Rules and field names from 数据统计 (https://developers.weixin.qq.com/doc/service/guide/product/analysis_data/analysis_data.md),
the legacy tables (https://developers.weixin.qq.com/doc/service/en/Analytics/User_Analysis_Data_Interface.html,
https://developers.weixin.qq.com/doc/service/en/Analytics/Graphic_Analysis_Data_Interface.html), and the API
pages: https://developers.weixin.qq.com/doc/service/api/wedata/user/api_getusersummary,
https://developers.weixin.qq.com/doc/service/api/wedata/news/api_getarticleread,
https://developers.weixin.qq.com/doc/subscription/api/wedata/news/api_getbizsummary,
https://developers.weixin.qq.com/doc/subscription/api/wedata/news/api_getarticletotaldetail and their siblings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sandbox.platform import figures as fig
from sandbox.platform.errors import WxError
from sandbox.platform.limits import (
    ARTICLESUMMARY_MIN_INTERACTIONS,
    DATACUBE_READY_HOUR,
    DATACUBE_SPANS,
    LEGACY_ARTICLE_DAYS,
    LEGACY_DATA_START,
    NEW_ARTICLE_DAYS,
    NEW_DATA_START,
)
from sandbox.platform.publish import require_verified

if TYPE_CHECKING:
    from sandbox.platform.core import Platform

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The counters of the legacy article statistics, in the pages' order.
COUNTERS = ("int_page_read_user", "int_page_read_count", "ori_page_read_user", "ori_page_read_count",
            "share_user", "share_count", "add_to_fav_user", "add_to_fav_count")
_FEED_SHARE = ("session", "feed", "other")  # getarticletotal's feed_share_from_<where>_user/_cnt

ENDPOINTS: dict[str, Callable] = {}


def _date(value: object) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise WxError(61500)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WxError(61500) from None


def last_ready(p: Platform) -> date:
    """The latest day whose figures exist: yesterday from 08:00 platform time, else the day before."""
    now = p.local_time()
    return now.date() - timedelta(days=1 if now.hour >= DATACUBE_READY_HOUR else 2)


def query_days(p: Platform, name: str, body: dict, start: str) -> list[date]:
    """The days a query asks for, or the refusal the real endpoint gives."""
    begin, end = _date(body.get("begin_date")), _date(body.get("end_date"))
    yesterday = p.local_time().date() - timedelta(days=1)
    if begin > end or (end - begin).days >= DATACUBE_SPANS[name] or end > yesterday \
            or begin < date.fromisoformat(start):
        raise WxError(61501)
    if end > last_ready(p):
        raise WxError(61503)
    return [begin + timedelta(days=i) for i in range((end - begin).days + 1)]


def _api(name: str, new: bool = False) -> Callable:
    """Register `build(platform, days) -> rows` as `datacube/<name>`, with the date rules around it."""
    def register(build: Callable[[Platform, list[date]], list[dict]]) -> Callable:
        def handler(p: Platform, query: dict, body: dict, files: dict) -> dict:
            require_verified(p)
            days = query_days(p, name, body, NEW_DATA_START if new else LEGACY_DATA_START)
            answer: dict = {"list": build(p, days)}
            if new:  # is_delay false = the figures are final
                answer["is_delay"] = bool(p.state["options"]["datacube_delay"])
            return answer
        ENDPOINTS[f"datacube/{name}"] = handler
        return build
    return register


def _add(into: list[int], parts: list[int]) -> list[int]:
    return [a + b for a, b in zip(into, parts, strict=True)]


def _mass_sent(p: Platform) -> list[fig.Item]:
    return [i for i in fig.items(p) if i.notified]


def _read_on(items: list[fig.Item], d: date) -> list[fig.Item]:
    """The articles that can have figures on day `d` (within their 30 days)."""
    return [i for i in items if 0 <= i.age(d) < NEW_ARTICLE_DAYS]


# --- users ----------------------------------------------------------------------------------------


@_api("getusersummary")
def user_summary(p: Platform, days: list[date]) -> list[dict]:
    follows = fig.follows_by_day(p)
    return [{"ref_date": d.isoformat(), "user_source": source, "new_user": new, "cancel_user": cancel}
            for d in days for source, (new, cancel) in sorted(follows.get(d, {}).items())]


@_api("getusercumulate")
def user_cumulate(p: Platform, days: list[date]) -> list[dict]:
    return [{"ref_date": d.isoformat(), "cumulate_user": fig.cumulate(p, d)} for d in days]


# --- legacy articles (mass-sent only) -------------------------------------------------------------


@_api("getarticlesummary")
def article_summary(p: Platform, days: list[date]) -> list[dict]:
    rows = []
    for d in days:
        for item in _mass_sent(p):
            if not 0 <= item.age(d) < LEGACY_ARTICLE_DAYS:
                continue
            f = fig.day_figures(item, d)
            interactions = (f["int_page_read_user"] + f["ori_page_read_user"] + f["share_user"]
                            + f["share_count"] + f["add_to_fav_count"])
            if interactions >= ARTICLESUMMARY_MIN_INTERACTIONS:
                rows.append({"ref_date": d.isoformat(), "msgid": item.msgid, "title": item.title,
                             **{k: f[k] for k in COUNTERS}})
    return rows


@_api("getarticletotal")
def article_total(p: Platform, days: list[date]) -> list[dict]:
    last = last_ready(p)
    return [{"ref_date": d.isoformat(), "msgid": item.msgid, "title": item.title,
             "details": _total_details(item, last)}
            for d in days for item in _mass_sent(p) if item.day == d]


def _total_details(item: fig.Item, last: date) -> list[dict]:
    """One entry per stat_date of the article's first 7 days, each the totals up to that date."""
    details, sums = [], dict.fromkeys(COUNTERS, 0)
    reads_by, counts_by = [0] * len(fig.CHANNELS), [0] * len(fig.CHANNELS)
    feed_users, feed_counts = [0] * 3, [0] * 3
    for k in range(min(LEGACY_ARTICLE_DAYS, item.age(last) + 1)):
        d = item.day + timedelta(days=k)
        f = fig.day_figures(item, d)
        for name in COUNTERS:
            sums[name] += f[name]
        by_channel = fig.channels(item, d, f)
        reads_by = _add(reads_by, by_channel["int_page_read_user"])
        counts_by = _add(counts_by, by_channel["int_page_read_count"])
        # Shares to 朋友圈 (about a third of all), by where the sharer had read the article.
        weights = [w * (0.8 + 0.4 * fig.unit(item.msgid, d, "feed", x))
                   for w, x in zip((0.6, 0.25, 0.15), _FEED_SHARE, strict=True)]
        counts = fig.split(round(f["share_count"] * 0.3), weights)
        feed_counts = _add(feed_counts, counts)
        feed_users = _add(feed_users, fig.split(round(f["share_user"] * 0.3), counts))
        by_infix = {infix: (reads_by[i], counts_by[i]) for i, (_, _, infix) in enumerate(fig.CHANNELS)}
        row = {"stat_date": d.isoformat(), "target_user": item.target_user, **sums}
        for infix in ("session", "hist_msg", "feed", "friends", "other"):
            row[f"int_page_from_{infix}_read_user"], row[f"int_page_from_{infix}_read_count"] = by_infix[infix]
        for i, where in enumerate(_FEED_SHARE):
            row[f"feed_share_from_{where}_user"], row[f"feed_share_from_{where}_cnt"] = \
                feed_users[i], feed_counts[i]
        for infix in ("kanyikan", "souyisou"):
            row[f"int_page_from_{infix}_read_user"], row[f"int_page_from_{infix}_read_count"] = by_infix[infix]
        details.append(row)
    return details


def _account_day(p: Platform, d: date) -> tuple[dict[str, int], dict[str, list[int]]]:
    """The mass-sent articles' counters summed for day `d`, and the split ones by channel."""
    sums, by_channel = dict.fromkeys(COUNTERS, 0), {n: [0] * len(fig.CHANNELS) for n in fig.SPLIT}
    for item in _read_on(_mass_sent(p), d):
        f = fig.day_figures(item, d)
        if not f["int_page_read_user"]:
            continue
        for name in COUNTERS:
            sums[name] += f[name]
        parts = fig.channels(item, d, f)
        for name in fig.SPLIT:
            by_channel[name] = _add(by_channel[name], parts[name])
    return sums, by_channel


def _read_rows(ref: dict, sums: dict[str, int], by_channel: dict[str, list[int]]) -> list[dict]:
    """getuserread(hour) rows: "all channels" (99999999), then each channel that has figures."""
    if not any(sums.values()):
        return []
    rows = [{**ref, "user_source": fig.ALL_SOURCES, **{k: sums[k] for k in COUNTERS}}]
    for i, (code, _, _) in enumerate(fig.CHANNELS):
        split = {k: (by_channel[k][i] if k in fig.SPLIT else 0) for k in COUNTERS}
        if any(split.values()):
            rows.append({**ref, "user_source": code, **split})
    return rows


@_api("getuserread")
def user_read(p: Platform, days: list[date]) -> list[dict]:
    rows = []
    for d in days:
        rows += _read_rows({"ref_date": d.isoformat()}, *_account_day(p, d))
    return rows


def _hourly(p: Platform, d: date) -> list[dict[str, int]]:
    """The mass-sent articles' split counters of day `d`, hour by hour (each article's hours follow its
    own readers: none before it went out)."""
    by_hour = [dict.fromkeys(fig.SPLIT, 0) for _ in range(24)]
    for item in _read_on(_mass_sent(p), d):
        f = fig.day_figures(item, d)
        if not f["int_page_read_user"]:
            continue
        for name, parts in fig.nest(f, fig.hours(item, d, f["int_page_read_user"])).items():
            for h, n in enumerate(parts):
                by_hour[h][name] += n
    return by_hour


@_api("getuserreadhour")
def user_read_hour(p: Platform, days: list[date]) -> list[dict]:
    rows = []
    for d in days:
        _, day_channels = _account_day(p, d)
        for h, hour in enumerate(_hourly(p, d)):
            sums = {k: hour.get(k, 0) for k in COUNTERS}  # 阅读原文 and 收藏: daily only
            by_channel = fig.nest(hour, day_channels["int_page_read_user"])
            rows += _read_rows({"ref_date": d.isoformat(), "ref_hour": h * 100}, sums, by_channel)
    return rows


def _share_rows(ref: dict, d: date, share_user: int, share_count: int) -> list[dict]:
    users, counts = fig.share_scenes(d, share_user, share_count)
    return [{**ref, "share_scene": scene, "share_count": c, "share_user": u}
            for scene, u, c in zip(fig.SHARE_SCENES, users, counts, strict=True) if c]


@_api("getusershare")
def user_share(p: Platform, days: list[date]) -> list[dict]:
    rows = []
    for d in days:
        sums, _ = _account_day(p, d)
        rows += _share_rows({"ref_date": d.isoformat()}, d, sums["share_user"], sums["share_count"])
    return rows


@_api("getusersharehour")
def user_share_hour(p: Platform, days: list[date]) -> list[dict]:
    rows = []
    for d in days:
        for h, hour in enumerate(_hourly(p, d)):
            rows += _share_rows({"ref_date": d.isoformat(), "ref_hour": h * 100}, d,
                                hour["share_user"], hour["share_count"])
    return rows


# --- 发表内容 (mass-sent and published) -------------------------------------------------------------


def _sources(total: int, by_channel: list[int]) -> list[dict]:
    """read_user_source: 全部 first, then each scene that has readers."""
    return [{"user_count": total, "scene_desc": "全部"}] + [
        {"user_count": n, "scene_desc": desc} for (_, desc, _), n in zip(fig.CHANNELS, by_channel, strict=True)
        if n]


def _readers_by_channel(item: fig.Item, d: date) -> list[int]:
    return fig.channels(item, d, fig.day_figures(item, d))["int_page_read_user"]


@_api("getarticleread", new=True)
def article_read(p: Platform, days: list[date]) -> list[dict]:
    rows = []
    for d in days:
        for item in _read_on(fig.items(p), d):
            users = fig.reads(item, d)
            if users:
                rows.append({"ref_date": d.isoformat(), "msgid": item.msgid, "detail": {
                    "read_user": users, "read_user_source": _sources(users, _readers_by_channel(item, d))}})
    return rows


@_api("getarticleshare", new=True)
def article_share(p: Platform, days: list[date]) -> list[dict]:
    rows = []
    for d in days:
        for item in _read_on(fig.items(p), d):
            shared = fig.day_figures(item, d)["share_user"]
            if shared:
                rows.append({"ref_date": d.isoformat(), "msgid": item.msgid, "detail": {"share_user": shared}})
    return rows


@_api("getbizsummary", new=True)
def biz_summary(p: Platform, days: list[date]) -> list[dict]:
    rows = []
    all_items = fig.items(p)
    for d in days:
        sums, by_channel = dict.fromkeys(fig.DAY_FIELDS, 0), [0] * len(fig.CHANNELS)
        for item in _read_on(all_items, d):
            f = fig.day_figures(item, d)
            for name in fig.DAY_FIELDS:
                sums[name] += f[name]
            by_channel = _add(by_channel, fig.channels(item, d, f)["int_page_read_user"])
        sent = sum(1 for item in all_items if item.day == d)
        if not (sums["int_page_read_user"] or sent):
            continue  # "no metric changed that day": no row
        rows.append({"ref_date": d.isoformat(), "detail": {
            "read_user": sums["int_page_read_user"],
            "read_user_source": _sources(sums["int_page_read_user"], by_channel),
            "share_user": sums["share_user"], "zaikan_user": sums["zaikan_user"],
            "like_user": sums["like_user"], "comment_count": sums["comment_count"],
            "collection_user": sums["add_to_fav_user"], "redirect_ori_page_user": sums["ori_page_read_user"],
            "send_page_count": sent}})
    return rows


@_api("getarticletotaldetail", new=True)
def article_total_detail(p: Platform, days: list[date]) -> list[dict]:
    """The articles that went out on the day, each with its totals up to every stat_date since (at most
    its first 30 days); publish_type 0 = followers notified (mass send), 1 = not (silent publish)."""
    last = last_ready(p)
    return [{"ref_date": d.isoformat(), "msgid": item.msgid, "publish_type": 0 if item.notified else 1,
             "title": item.title, "content_url": item.content_url, "detail_list": _detail_list(item, last)}
            for d in days for item in fig.items(p) if item.day == d]


def _detail_list(item: fig.Item, last: date) -> list[dict]:
    lifetime = fig.totals(item, item.day + timedelta(days=NEW_ARTICLE_DAYS), NEW_ARTICLE_DAYS)
    out, sums, by_channel = [], dict.fromkeys(fig.DAY_FIELDS, 0), [0] * len(fig.CHANNELS)
    for k in range(min(NEW_ARTICLE_DAYS, item.age(last) + 1)):
        d = item.day + timedelta(days=k)
        f = fig.day_figures(item, d)
        for name in fig.DAY_FIELDS:
            sums[name] += f[name]
        by_channel = _add(by_channel, fig.channels(item, d, f)["int_page_read_user"])
        progress = sums["int_page_read_user"] / max(1, lifetime["int_page_read_user"])
        out.append({"stat_date": d.isoformat(), "read_user": sums["int_page_read_user"],
                    "read_user_source": _sources(sums["int_page_read_user"], by_channel),
                    "share_user": sums["share_user"], "zaikan_user": sums["zaikan_user"],
                    "like_user": sums["like_user"], "comment_count": sums["comment_count"],
                    "collection_user": sums["add_to_fav_user"], "praise_money": sums["praise_money"],
                    "read_subscribe_user": sums["read_subscribe_user"], **fig.rates(item, progress)})
    return out


# --- for the platform's index page ----------------------------------------------------------------


def overview(p: Platform, limit: int = 20) -> dict:
    """The latest ready day, the followers then, and the newest articles sent out with their readers and
    sharers up to that day, as the statistics report them."""
    last = last_ready(p)
    articles = []
    for item in reversed(fig.items(p)[-limit:]):
        t = fig.totals(item, last, NEW_ARTICLE_DAYS)
        articles.append({"day": item.day.isoformat(), "msgid": item.msgid, "notified": item.notified,
                         "title": item.title, "read_user": t["int_page_read_user"],
                         "share_user": t["share_user"]})
    return {"ready": last.isoformat(), "followers": fig.cumulate(p, last), "articles": articles}
