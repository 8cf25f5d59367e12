"""The numbers behind the local platform's 数据统计 (datacube.py says which endpoint shows which, and the
date rules). Only what the platform has actually sent has figures: each article it mass-sent or published
is read, shared, favourited, liked... for the 30 days after it went out, less each day; the follower
figures count the follows and unfollows it has seen (the state's `follows`).

Deterministic: every number is seeded by a hash of the msgid, the date and the figure's name (blake2b, as
Python's hash() changes between processes), so the same content and the same dates always give the same
numbers. The magnitudes are plausible rather than tied to the few simulated followers: a mass-sent lead
article is read by a few hundred to a few thousand people over its days. Where WeChat's way of counting
is not documented (people reading on two days, or by two channels), the choice is written beside it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sandbox.platform.limits import NEW_ARTICLE_DAYS

if TYPE_CHECKING:
    from sandbox.platform.core import Platform

ALL_SOURCES = 99999999  # getuserread's user_source for "all channels"

# Where reads come from, as the legacy APIs code them (user_source), as the 发表内容 APIs name them
# (scene_desc), and the infix of getarticletotal's int_page_from_<infix>_read_user fields.
CHANNELS = ((0, "公众号消息", "session"), (1, "聊天会话", "friends"), (2, "朋友圈", "feed"),
            (4, "公众号主页", "hist_msg"), (5, "其他", "other"), (6, "推荐", "kanyikan"),
            (7, "搜一搜", "souyisou"))
_CHANNEL_WEIGHTS = {
    "sending day": (0.62, 0.12, 0.09, 0.05, 0.04, 0.05, 0.03),
    "later days": (0.30, 0.20, 0.15, 0.10, 0.07, 0.12, 0.06),
    "silent": (0.0, 0.15, 0.10, 0.35, 0.07, 0.20, 0.13),  # nobody was notified: no 公众号消息 reads
}
SHARE_SCENES = (1, 2, 255)  # 好友转发, 朋友圈, 其他
_SHARE_WEIGHTS = (0.6, 0.3, 0.1)
FOLLOW_SOURCES = (0, 1, 17, 30, 57, 161)  # 其他合计, 公众号搜索, 名片分享, 扫码, 文章内账号名称, 他人转载
_FOLLOW_WEIGHTS = (0.2, 0.2, 0.1, 0.35, 0.1, 0.05)
# Reads by hour of the day, platform time: morning, lunch and evening peaks.
_HOURS = (1.0, 0.5, 0.3, 0.2, 0.2, 0.4, 1.2, 2.5, 3.5, 3.0, 2.8, 3.0,
          3.5, 2.8, 2.5, 2.5, 2.6, 2.8, 3.0, 3.5, 4.0, 4.2, 3.5, 2.0)
_DECAY = 0.45  # each day after sending brings 45 % of the reads of the day before
_POSITION = (1.0, 0.55, 0.4, 0.3)  # the lead article is read most; the 4th and later as the 4th
_SILENT = 0.35  # a silent publish reaches about a third of a notified article

# The counters split by channel and by hour (since 2020-02-28 阅读原文 and 收藏 are only in the daily
# "all channels" row: the guide).
SPLIT = ("int_page_read_user", "int_page_read_count", "share_user", "share_count")
DAY_FIELDS = ("int_page_read_user", "int_page_read_count", "ori_page_read_user", "ori_page_read_count",
              "share_user", "share_count", "add_to_fav_user", "add_to_fav_count", "zaikan_user",
              "like_user", "comment_count", "read_subscribe_user", "praise_money")


def unit(*key: object) -> float:
    """A number in [0, 1) fixed by `key`."""
    digest = hashlib.blake2b("|".join(map(str, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split(total: int, weights: Sequence[float]) -> list[int]:
    """`total` in whole parts proportional to `weights` (largest remainders): they sum to `total`."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    raw = [total * w / whole for w in weights]
    parts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))[: total - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class Item:
    """One article the platform sent out, as the statistics know it."""

    msgid: str  # "<msg_data_id>_<index>", index 1-based
    title: str
    content_url: str
    day: date  # the day it went out, platform time
    hour: int
    notified: bool  # mass-sent (群发: followers notified) rather than silently published (发布)
    index: int
    target_user: int  # 送达人数: the mass send's recipients; for a publish, the followers then
    has_source: bool  # has 阅读原文 (content_source_url)

    def age(self, day: date) -> int:
        return (day - self.day).days


def items(p: Platform) -> list[Item]:
    """Every article mass-sent (mpnews) or published, oldest first. Deleting one later does not remove
    its figures (whether WeChat's do: unconfirmed)."""
    found = []
    for m in p.state["mass"].values():
        if m["msgtype"] == "mpnews" and m["status"] in ("sent", "deleted") and m["msg_data_id"]:
            found += _items_of(p, m["msg_data_id"], m["article_id"], m["news_item"], m["finished_at"],
                               True, len(m["recipients"]))
    for pub in p.state["publishes"].values():
        if pub["status"] in (0, 5) and pub["article_id"]:
            found += _items_of(p, pub["msg_data_id"], pub["article_id"], pub["news_item"],
                               pub["finished_at"], False, followers_at(p, pub["finished_at"]))
    return sorted(found, key=lambda i: (i.day, i.hour, i.msgid))


def _items_of(p: Platform, msg_data_id: int, article_id: str | None, news: list[dict], at: float,
              notified: bool, target: int) -> list[Item]:
    article = p.state["articles"].get(article_id or "")
    stored = article["news_item"] if article else news
    local = p.local_time(at)
    return [Item(msgid=f"{msg_data_id}_{i + 1}", title=a.get("title", ""), content_url=a.get("url", ""),
                 day=local.date(), hour=local.hour, notified=notified, index=i + 1, target_user=target,
                 has_source=bool(a.get("content_source_url")))
            for i, a in enumerate(stored)]


# --- an article's figures -------------------------------------------------------------------------


def reads(item: Item, day: date) -> int:
    """People who read the article on `day` (int_page_read_user / read_user): none outside its 30 days."""
    k = item.age(day)
    if not 0 <= k < NEW_ARTICLE_DAYS:
        return 0
    reach = 300 + 2700 * unit(item.msgid, "reach") ** 2
    reach *= _POSITION[min(item.index, len(_POSITION)) - 1] * (1.0 if item.notified else _SILENT)
    return round(reach * (1 - _DECAY) * _DECAY ** k * (0.8 + 0.4 * unit(item.msgid, day, "reads")))


def day_figures(item: Item, day: date) -> dict[str, int]:
    """All of the article's counters for `day` alone (DAY_FIELDS); all 0 on a day without reads."""
    users = reads(item, day)
    if not users:
        return dict.fromkeys(DAY_FIELDS, 0)

    def share_of(name: str, low: float, high: float, of: int = users) -> int:
        return round(of * (low + (high - low) * unit(item.msgid, day, name)))

    f = {"int_page_read_user": users, "int_page_read_count": share_of("count", 1.1, 1.4),
         "ori_page_read_user": share_of("ori", 0.02, 0.08) if item.has_source else 0,
         "share_user": share_of("share", 0.02, 0.07), "add_to_fav_user": share_of("fav", 0.005, 0.03),
         "zaikan_user": share_of("zaikan", 0.01, 0.04), "like_user": share_of("like", 0.01, 0.05),
         "comment_count": share_of("comment", 0.0, 0.01),
         "read_subscribe_user": share_of("subscribe", 0.001, 0.01)}
    f["ori_page_read_count"] = share_of("ori count", 1.0, 1.2, f["ori_page_read_user"])
    f["share_count"] = share_of("share count", 1.0, 1.5, f["share_user"])
    f["add_to_fav_count"] = share_of("fav count", 1.0, 1.1, f["add_to_fav_user"])
    # 赞赏 (in fen): now and then somebody gives 1–20 yuan.
    f["praise_money"] = 100 * (1 + int(20 * unit(item.msgid, day, "praise"))) \
        if unit(item.msgid, day, "praised") < 0.15 else 0
    return {name: f[name] for name in DAY_FIELDS}


def totals(item: Item, upto: date, days: int) -> dict[str, int]:
    """The article's counters summed from its sending day to `upto`, at most its first `days` days.
    People are summed over days (someone reading on two days counts twice; WeChat's rule: unconfirmed)."""
    out = dict.fromkeys(DAY_FIELDS, 0)
    for k in range(min(days, item.age(upto) + 1)):
        for name, value in day_figures(item, item.day + timedelta(days=k)).items():
            out[name] += value
    return out


def nest(totals: dict[str, int], weights: Sequence[float]) -> dict[str, list[int]]:
    """Reads and shares split alike (by channel, hour or scene): readers by `weights`, then the reads and
    shares by the readers, the sharers by the shares, so no part has more people than times."""
    users = split(totals["int_page_read_user"], weights)
    share_count = split(totals["share_count"], users)
    return {"int_page_read_user": users, "int_page_read_count": split(totals["int_page_read_count"], users),
            "share_user": split(totals["share_user"], share_count), "share_count": share_count}


def channels(item: Item, day: date, f: dict[str, int]) -> dict[str, list[int]]:
    """The day's reads and shares (`f` = day_figures) by CHANNELS. One person can come by two channels, so
    the readers' parts add up to a little more than the total, as WeChat's do (the community reports
    channel rows exceeding "all"); reads and shares are each counted once."""
    if not f["int_page_read_user"]:
        return {name: [0] * len(CHANNELS) for name in SPLIT}
    kind = "silent" if not item.notified else "sending day" if day == item.day else "later days"
    weights = [w * (0.8 + 0.4 * unit(item.msgid, day, "channel", code))
               for w, (code, _, _) in zip(_CHANNEL_WEIGHTS[kind], CHANNELS, strict=True)]
    overlap = 1.02 + 0.04 * unit(item.msgid, day, "overlap")
    return nest({**f, "int_page_read_user": round(f["int_page_read_user"] * overlap)}, weights)


def hours(item: Item, day: date, total: int) -> list[int]:
    """`total` split over the 24 hours of `day`; on the sending day nothing before the hour it went out."""
    weights = [w * (0.7 + 0.6 * unit(item.msgid, day, "hour", h)) for h, w in enumerate(_HOURS)]
    if day == item.day:
        weights = [0.0 if h < item.hour else w * (3.0 if h - item.hour < 2 and item.notified else 1.0)
                   for h, w in enumerate(weights)]
    return split(total, weights)


def share_scenes(day: date, share_user: int, share_count: int) -> tuple[list[int], list[int]]:
    """An account's sharers and shares of `day` by SHARE_SCENES."""
    counts = split(share_count, [w * (0.8 + 0.4 * unit(day, "scene", s))
                                 for w, s in zip(_SHARE_WEIGHTS, SHARE_SCENES, strict=True)])
    return split(share_user, counts), counts


def rates(item: Item, progress: float) -> dict:
    """getarticletotaldetail's rates for the article, `progress` = the share of its reads so far. As the
    page's example shows them, fractions with 7 decimals (their unit: unconfirmed)."""
    def u(name: str) -> float:
        return unit(item.msgid, name)

    jumps = split(10_000_000, [w * (0.7 + 0.6 * u(f"jump {i}"))
                               for i, w in enumerate((0.45, 0.15, 0.12, 0.1, 0.18))])
    return {"read_delivery_rate": round((0.02 + 0.1 * u("delivery")) * progress, 7) if item.notified else 0,
            "read_finish_rate": round(0.35 + 0.35 * u("finish"), 7),
            "read_avg_activetime": round(0.6 + 2.4 * u("activetime"), 7),
            "read_jump_position": [{"position": i + 1, "rate": j / 10_000_000} for i, j in enumerate(jumps)]}


# --- followers ------------------------------------------------------------------------------------


def follow_source(openid: str) -> int:
    """The user_source a follower came by (the platform does not simulate scenes: drawn from the openid;
    their unfollow is counted under the same source, which is unconfirmed)."""
    u, edge = unit(openid, "source"), 0.0
    for source, weight in zip(FOLLOW_SOURCES, _FOLLOW_WEIGHTS, strict=True):
        edge += weight
        if u < edge:
            return source
    return FOLLOW_SOURCES[0]


def follows_by_day(p: Platform) -> dict[date, dict[int, list[int]]]:
    """day → user_source → [new_user, cancel_user], from the follow log."""
    days: dict[date, dict[int, list[int]]] = {}
    for entry in p.state["follows"]:
        row = days.setdefault(p.local_time(entry["at"]).date(), {}).setdefault(
            follow_source(entry["openid"]), [0, 0])
        row[0 if entry["kind"] == "subscribe" else 1] += 1
    return days


def followers_at(p: Platform, at: float) -> int:
    """How many followed the account at time `at`."""
    return sum(1 if e["kind"] == "subscribe" else -1 for e in p.state["follows"] if e["at"] <= at)


def cumulate(p: Platform, day: date) -> int:
    """How many followed the account at the end of `day` (platform time)."""
    return sum(1 if e["kind"] == "subscribe" else -1 for e in p.state["follows"]
               if p.local_time(e["at"]).date() <= day)
