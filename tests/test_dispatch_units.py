"""bot/dispatch.py's parts on their own: what the log says a message was, how the answer is composed
(held replies first, texts joined, news cut, long text continued by customer-service messages or
behind 「更多」), the 「更多」 step, and the shutdown drain. tests/test_webhook_dispatch.py and
tests/test_webhook_retries.py drive the whole through the app."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

from bot import dispatch, texts
from bot.dispatch import Dispatcher, summary
from tests.webhook_helpers import event_xml, message_xml, text_xml
from wechat import protocol, render
from wechat.limits import TEXT_BYTES
from wechat.replies import News, NewsItem, Text


def parsed(xml: str):
    return protocol.parse(xml)


@pytest.mark.parametrize(("xml", "expected"), [
    (text_xml("o_s", "你好"), ("text", "你好")),
    (event_xml("o_s", "CLICK", "HELP"), ("event:click", "HELP")),
    (event_xml("o_s", "subscribe"), ("event:subscribe", "")),
    (message_xml("o_s", "voice", {"MediaId": "m1", "Format": "amr", "Recognition": "语音识别"}), ("voice", "语音识别")),
    (message_xml("o_s", "voice", {"MediaId": "m1", "Format": "amr"}), ("voice", "m1")),
    (message_xml("o_s", "location", {"Location_X": "30.2", "Location_Y": "120.1", "Scale": "15",
                                     "Label": "杭州"}), ("location", "杭州")),
    (message_xml("o_s", "link", {"Title": "t", "Description": "d", "Url": "https://e.org/a"}), ("link", "https://e.org/a")),
    (message_xml("o_s", "image", {"PicUrl": "https://e.org/p.jpg", "MediaId": "m2"}), ("image", "https://e.org/p.jpg")),
    (message_xml("o_s", "image", {"MediaId": "m3"}), ("image", "m3")),
    (message_xml("o_s", "shortvideo", {"ThumbMediaId": "t"}), ("shortvideo", "")),
])
def test_summary_for_the_log(xml, expected):
    assert summary(parsed(xml)) == expected


class State:
    def __init__(self, pending=None) -> None:
        self.pending = pending
        self.expected: list[tuple] = []
        self.cleared = 0

    async def expect(self, kind, data, ttl):
        self.expected.append((kind, data, ttl))
        self.pending = (kind, data)

    async def clear(self):
        self.cleared += 1
        self.pending = None


def dispatcher(capacity: int = 0) -> Dispatcher:
    services = SimpleNamespace(
        followers=SimpleNamespace(capacity=lambda follower: capacity),
        messagelog=None,
        settings=SimpleNamespace(server=SimpleNamespace(reply_budget_seconds=4.0)),
    )
    return Dispatcher(services, [])


FOLLOWER = SimpleNamespace(openid="o_c")
MESSAGE = parsed(text_xml("o_c", "问"))


async def test_compose_nothing_is_no_answer():
    assert await dispatcher().compose(MESSAGE, FOLLOWER, State(), [], None) == (None, [])


async def test_compose_held_texts_go_first_joined_with_the_reply():
    first, later = await dispatcher().compose(MESSAGE, FOLLOWER, State(), [Text("一"), Text("二")], Text("三"))
    assert (first, later) == (Text("一\n\n二\n\n三"), [])
    news = News([NewsItem("标题", "说明", "https://e.org/a")])
    first, later = await dispatcher().compose(MESSAGE, FOLLOWER, State(), [Text("一")], news)
    assert (first, later) == (Text("一"), [news])  # not all texts: one by one


async def test_compose_cuts_news_to_what_the_message_allows():
    news = News([NewsItem(f"第{i}篇", "", f"https://e.org/{i}") for i in range(3)])
    first, later = await dispatcher().compose(MESSAGE, FOLLOWER, State(), [], news)
    assert [a.title for a in first.articles] == ["第0篇"] and later == []
    event = parsed(event_xml("o_c", "CLICK", "NEWS"))
    first, _ = await dispatcher().compose(event, FOLLOWER, State(), [], news)
    assert [a.title for a in first.articles] == ["第0篇", "第1篇", "第2篇"]


LONG = "".join(f"第{i}行：" + "社会组织等级评估。" * 20 + "\n" for i in range(7))
PARTS = render.split_text(LONG)


async def test_long_text_continues_by_customer_service_when_the_window_has_room():
    n = len(PARTS)
    assert n == 3
    news = News([NewsItem("t", "", "https://e.org/x")])
    first, later = await dispatcher(capacity=n - 1).compose(MESSAGE, FOLLOWER, State(), [], Text(LONG))
    assert first == Text(PARTS[0]) and later == [Text(p) for p in PARTS[1:]]
    # Exactly enough room for the other parts and the reply after them: all sent on.
    first, later = await dispatcher(capacity=n).compose(MESSAGE, FOLLOWER, State(), [Text(LONG)], news)
    assert first == Text(PARTS[0]) and later == [*(Text(p) for p in PARTS[1:]), news]


async def test_long_text_without_room_waits_behind_more():
    state = State()
    first, later = await dispatcher(capacity=len(PARTS) - 2).compose(MESSAGE, FOLLOWER, state, [], Text(LONG))
    room = TEXT_BYTES - render.utf8_len(texts.MORE_HINT)
    parts = render.split_text(LONG, room)
    assert first == Text(parts[0] + texts.MORE_HINT) and later == []
    assert render.utf8_len(first.content) <= TEXT_BYTES
    assert state.expected == [("more", {"parts": parts[1:]}, texts.MORE_TTL_SECONDS)]
    # One short of room for the reply after the parts: behind 「更多」 too.
    news = News([NewsItem("t", "", "https://e.org/x")])
    first, later = await dispatcher(capacity=len(PARTS) - 1).compose(MESSAGE, FOLLOWER, State(), [Text(LONG)], news)
    assert first == Text(parts[0] + texts.MORE_HINT) and later == [news]


async def test_long_text_to_nobody_known_is_cut():
    first, later = await dispatcher(capacity=9).compose(MESSAGE, None, State(), [], Text(LONG))
    assert first == Text(render.split_text(LONG)[0]) and later == []


async def test_the_more_step_hands_out_one_part_at_a_time():
    state = State(("more", {"parts": ["二", "三"]}))
    ctx = SimpleNamespace(state=state)
    assert await dispatch.more(MESSAGE, ctx) == Text("二" + texts.MORE_HINT)
    assert state.expected == [("more", {"parts": ["三"]}, texts.MORE_TTL_SECONDS)]
    assert await dispatch.more(MESSAGE, ctx) == Text("三")
    assert state.cleared == 1 and state.pending is None
    assert await dispatch.more(MESSAGE, ctx) is None  # nothing left
    assert state.cleared == 2
    assert dispatch.replies_router.steps["more"].accepts(texts.MORE, {}) is True
    assert dispatch.replies_router.steps["more"].accepts("更多吗", {}) is False


async def test_drain_waits_then_cancels_and_says_so(caplog):
    d = dispatcher()
    done = d.spawn(asyncio.sleep(0.01))
    stuck = d.spawn(asyncio.sleep(60))
    with caplog.at_level(logging.ERROR, "bot.dispatch"):
        await d.drain(timeout=0.2)
    assert done.done() and not done.cancelled() and stuck.cancelled()
    assert d.tasks == set()
    assert [r.getMessage() for r in caplog.records] == [
        "shutdown: 1 handlers or deliveries still waiting after 0 s; cancelled"]


async def test_a_failed_background_task_is_logged(caplog):
    d = dispatcher()

    async def broken():
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, "bot.dispatch"):
        task = d.spawn(broken())
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)
    assert d.tasks == set()
    [record] = caplog.records
    assert "background task" in record.getMessage() and "broken" in record.getMessage()
    assert record.exc_info[1].args == ("boom",)


async def test_a_text_of_two_parts_continues_and_one_line_is_cut_to_fit_the_hint():
    line = "评" * 1000  # 3,000 bytes on one line: two parts, cut between characters
    two = render.split_text(line)
    assert len(two) == 2
    first, later = await dispatcher(capacity=1).compose(MESSAGE, FOLLOWER, State(), [], Text(line))
    assert first == Text(two[0]) and later == [Text(two[1])]
    state = State()
    first, later = await dispatcher(capacity=0).compose(MESSAGE, FOLLOWER, state, [], Text(line))
    assert first.content.endswith(texts.MORE_HINT) and later == []
    assert render.utf8_len(first.content) <= TEXT_BYTES  # the hint fits in the passive reply
    rest = state.expected[0][1]["parts"]
    assert first.content[: -len(texts.MORE_HINT)] + "".join(rest) == line


async def test_held_replies_without_a_new_reply_go_alone():
    news = News([NewsItem("标题", "说明", "https://e.org/a")])
    assert await dispatcher().compose(MESSAGE, FOLLOWER, State(), [Text("一")], None) == (Text("一"), [])
    assert await dispatcher().compose(MESSAGE, FOLLOWER, State(), [news, Text("一")], None) == (news, [Text("一")])
