"""The message-log and follower operations the console uses: the log filtered by follower, time, type
and direction and paged by id; one follower's conversation oldest first; the follower list with
follow time, source and bound units; a user/info profile in words; what an erasure removes, and the
erasure itself (bot.messagelog.forget)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import open_services
from bot.messagelog import forget
from core.clock import FakeClock
from store.members import binding
from store.messages.browse import LogFilter, conversation, log_page
from store.messages.followers import erasure_effect, follower_page, profile
from store.models.members import Member
from store.models.webhook import Follower, MessageLog
from store.shared import MemoryState

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
async def services(migrated, make_settings):
    clock = FakeClock()
    async with open_services(make_settings(database={"url": migrated}), clock, shared=MemoryState(clock)) as s:
        yield s


def _log(openid, minutes, direction, msg_type, content="", channel=None):
    return MessageLog(at=T0 + timedelta(minutes=minutes), openid=openid, direction=direction,
                      channel=channel or ("webhook" if direction == "in" else "passive"), msg_type=msg_type,
                      content=content)


async def _seed(services):
    async with services.db.begin() as session:
        for openid, first, last in (("o-a", 0, 30), ("o-b", 5, 10)):
            session.add(Follower(openid=openid, subscribed=True, first_seen=T0 + timedelta(minutes=first),
                                 last_seen=T0 + timedelta(minutes=last)))
        session.add_all([
            _log("o-a", 0, "in", "event:subscribe_scan", "1001"),
            _log("o-a", 1, "out", "text", "欢迎关注"),
            _log("o-b", 5, "in", "event:subscribe"),
            _log("o-b", 6, "in", "text", "会费"),
            _log("o-b", 6, "out", "text", "会费标准见官网"),
            _log("o-a", 20, "in", "text", "新闻"),
            _log("o-a", 20, "out", "news", "年会召开 https://example.org/1"),
            _log("o-a", 30, "in", "event:click", "NEWS_LATEST"),
        ])


async def test_the_log_filters_and_pages(services):
    await _seed(services)
    first = await log_page(services.db, LogFilter(), limit=3)
    assert [(r.openid, r.msg_type) for r in first.rows] == [("o-a", "event:click"), ("o-a", "news"), ("o-a", "text")]
    second = await log_page(services.db, LogFilter(), before=first.before, limit=3)
    third = await log_page(services.db, LogFilter(), before=second.before, limit=3)
    assert len(second.rows) == 3 and len(third.rows) == 2 and third.before is None
    ids = [r.id for r in first.rows + second.rows + third.rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 8

    of_b = await log_page(services.db, LogFilter(openid="o-b"))
    assert [r.content for r in of_b.rows] == ["会费标准见官网", "会费", ""]
    events = await log_page(services.db, LogFilter(types=["event"]))
    assert [r.msg_type for r in events.rows] == ["event:click", "event:subscribe", "event:subscribe_scan"]
    texts_in = await log_page(services.db, LogFilter(types=["text"], direction="in"))
    assert [r.content for r in texts_in.rows] == ["新闻", "会费"]
    window = await log_page(services.db, LogFilter(since=T0 + timedelta(minutes=5), until=T0 + timedelta(minutes=20)))
    assert [r.openid for r in window.rows] == ["o-b", "o-b", "o-b"]


async def test_the_log_reads_by_time_and_pages_through_equal_times_once(services):
    """Another process's batch can be written after rows that are newer than its own: the log reads by
    the time of each entry (then its id), and paging one row at a time through entries of the same
    minute visits each once."""
    await _seed(services)
    async with services.db.begin() as session:
        session.add(_log("o-c", 6, "in", "text", "晚写入的早消息"))  # the highest id, at minute 6
    seen, before = [], None
    while True:
        page = await log_page(services.db, LogFilter(), before=before, limit=1)
        seen += [(r.openid, r.content) for r in page.rows]
        if page.before is None:
            break
        before = page.before
    assert seen[:3] == [("o-a", "NEWS_LATEST"), ("o-a", "年会召开 https://example.org/1"), ("o-a", "新闻")]
    assert seen[3:6] == [("o-c", "晚写入的早消息"), ("o-b", "会费标准见官网"), ("o-b", "会费")]
    assert len(seen) == 9 and len(set(seen)) == 9
    window = await log_page(services.db, LogFilter(since=T0 + timedelta(minutes=6), until=T0 + timedelta(minutes=7)))
    assert [r.content for r in window.rows] == ["晚写入的早消息", "会费标准见官网", "会费"]


async def test_a_conversation_reads_oldest_first_with_earlier_pages(services):
    await _seed(services)
    latest = await conversation(services.db, "o-a", limit=3)
    assert [r.content for r in latest.rows] == ["新闻", "年会召开 https://example.org/1", "NEWS_LATEST"]
    earlier = await conversation(services.db, "o-a", before=latest.before, limit=3)
    assert [r.content for r in earlier.rows] == ["1001", "欢迎关注"] and earlier.before is None


async def test_the_follower_list_says_when_and_how_each_followed_and_their_units(services):
    await _seed(services)
    async with services.db.begin() as session:
        session.add(Member(name="浙江省摄影家协会", credit_code="51330000MJ0000001X", kind="社会团体", role="会员单位"))
    code, _, _ = await binding.issue_code(services.db, "51330000MJ0000001X", services.clock.now(), 60)
    await binding.bind(services, "o-b", code)

    page = await follower_page(services.db)
    assert page.total == 2
    a, b = page.rows
    assert (a.follower.openid, a.followed_at, a.source, a.units) == ("o-a", T0, "扫描带参数二维码（场景 1001）", [])
    assert (b.follower.openid, b.source, b.units) == ("o-b", "关注（搜索、名片等）", ["浙江省摄影家协会"])
    assert [r.follower.openid for r in (await follower_page(services.db, query="o-b")).rows] == ["o-b"]
    assert (await follower_page(services.db, subscribed=False)).total == 0
    assert [r.follower.openid for r in (await follower_page(services.db, offset=1, limit=1)).rows] == ["o-b"]


def test_a_profile_in_words():
    p = profile({"subscribe": 1, "subscribe_time": 1767225600, "subscribe_scene": "ADD_SCENE_QR_CODE",
                 "remark": "秘书处王老师", "tagid_list": [2, 9]}, {2: "理事单位"})
    assert (p.subscribed, p.scene, p.remark, p.tags) == (True, "扫描二维码", "秘书处王老师", ["理事单位", "9"])
    assert p.followed_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert profile({"subscribe": 0}).subscribed is False


async def test_the_erasure_effect_names_what_goes_and_then_it_goes(services):
    await _seed(services)
    effect = await erasure_effect(services.db, "o-a")
    assert (effect.log_rows, effect.known) == (5, True)
    assert effect.sentence() == "将永久删除粉丝 o-a 的 5 条消息记录、粉丝资料、对话状态和暂存待发的消息，不可恢复。"
    assert await forget(services, "o-a") == 5
    assert (await erasure_effect(services.db, "o-a")).sentence() == "没有这位粉丝的任何记录。"
    assert [r.follower.openid for r in (await follower_page(services.db)).rows] == ["o-b"]
