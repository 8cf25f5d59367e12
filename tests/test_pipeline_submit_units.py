"""scheduler/pipeline.py from approved to submitted, step by step against a fake WeChat client and
a fake clock (tests/pipeline_support.py): never early, overdue, tags, the submit and its answers,
refusals, unknown outcomes and quotas."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from scheduler import editing, planning, states, texts
from scheduler import pipeline as pipeline_module
from tests.pipeline_support import (
    EDITOR,
    OTHER,
    START,
    WORKER,
    local,
    logged,
    migrated_template,
    paused,
    world_factory,
)
from wechat.errors import (
    ContentRejected,
    DuplicateClientMsgId,
    OutcomeUnknown,
    QuotaExceeded,
    SendTooFast,
    TransientError,
    WeChatError,
)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    return migrated_template(tmp_path_factory)


@pytest.fixture
def world(template_db, tmp_path, make_settings):
    return world_factory(template_db, tmp_path, make_settings)


# --- approved → submitting --------------------------------------------------------------------------


async def test_an_approved_push_waits_for_its_planned_time(world):
    async with world() as w:
        at = START + timedelta(seconds=1)
        push = await w.add("approved", media_id="M1", planned_at=at, approved_by="editor")
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.next_run_at) == ("approved", at)
        assert w.api.calls == []
        # At the planned time exactly: it goes.
        w.clock.advance(1)
        await w.pipeline.submit(row)
        assert (await w.push(push.id)).state == "submitted"


async def test_send_now_given_while_the_pipeline_looked_wins(world):
    """The wait for the planned time is written on the condition that planned_at did not move."""
    async with world() as w:
        push = await w.add("approved", media_id="M1", planned_at=START + timedelta(days=1), approved_by="editor")
        copy = await w.push(push.id)
        w.clock.advance(3)
        await editing.send_now(w.services, push.id)
        with pytest.raises(states.Stale):
            await w.pipeline.submit(copy)
        row = await w.push(push.id)
        assert (row.planned_at, row.next_run_at) == (START + timedelta(seconds=3), START + timedelta(seconds=3))


async def test_late_within_grace_goes_and_later_is_overdue(world):
    async with world() as w:
        ok = await w.add("approved", media_id="M1", planned_at=START - timedelta(minutes=60))
        await w.pipeline.submit(ok)
        assert (await w.push(ok.id)).state == "submitted"
        late = await w.add("approved", media_id="M2", planned_at=START - timedelta(minutes=60, seconds=1))
        await w.pipeline.submit(late)
        row = await w.push(late.id)
        assert (row.state, row.next_run_at) == ("overdue", None)
        assert [(o, k) for o, k, _ in await w.notices(late.id)] == [(EDITOR, "overdue"), (OTHER, "overdue")]
        assert w.api.named("publish_submit") == [("M1",)]


async def test_an_unverified_account_fails_the_push_before_any_call(world):
    async with world(wechat={"verified": False}) as w:
        push = await w.add("approved", media_id="M1")
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.error_code, row.error_reason) == ("failed", None, texts.REASON_UNVERIFIED)
        assert w.api.calls == []


async def test_a_broadcast_to_a_tag_finds_the_tag_id_first(world):
    async with world() as w:
        w.api.answers["tags_get"] = {"tags": [{"id": 2, "name": "理事"}, {"id": "5", "name": "会员"}]}
        push = await w.add("approved", kind="broadcast", media_id="M1", tag_name="会员", send_ignore_reprint=True)
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.tag_id, row.state, row.clientmsgid) == (5, "submitted", f"push-{push.id}-1")
        assert w.api.named("mass_sendall") == [
            ("M1", {"clientmsgid": f"push-{push.id}-1", "send_ignore_reprint": 1, "tag_id": 5})]
        # Known already: not asked again; to all followers: no tag at all.
        known = await w.add("approved", kind="broadcast", media_id="M2", tag_name="会员", tag_id=5)
        everyone = await w.add("approved", kind="broadcast", media_id="M3", news_media_id="N3")
        publish = await w.add("approved", media_id="M4", tag_name="会员")
        for p in (known, everyone, publish):
            await w.pipeline.submit(p)
        assert len(w.api.named("tags_get")) == 1
        assert w.api.named("mass_sendall")[1:] == [
            ("M2", {"clientmsgid": f"push-{known.id}-1", "send_ignore_reprint": 0, "tag_id": 5}),
            ("N3", {"clientmsgid": f"push-{everyone.id}-1", "send_ignore_reprint": 0, "tag_id": None}),
        ]
        assert (await w.push(publish.id)).clientmsgid is None


@pytest.mark.parametrize(("tags", "known"), [
    ({"tags": [{"id": 2, "name": "理事"}, {"id": 3}, {"id": 4, "name": "会员"}]}, "理事、、会员"),
    ({}, "无"),
])
async def test_an_unknown_tag_fails_naming_the_tags_there_are(world, tags, known):
    async with world() as w:
        w.api.answers["tags_get"] = tags
        push = await w.add("approved", kind="broadcast", media_id="M1", tag_name="校友")
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.error_reason) == ("failed", texts.REASON_UNKNOWN_TAG.format(tag="校友", known=known))
        assert w.api.named("mass_sendall") == []


@pytest.mark.parametrize(("kind", "clientmsgid"), [("broadcast", "push-{id}-3"), ("publish", None)])
async def test_submitting_is_written_before_the_call(world, kind, clientmsgid):
    async with world(scheduler={"pause_at": ["before:submit"]}) as w:
        push = await w.add("approved", kind=kind, media_id="M1", attempt=3)
        w.clock.advance(1)
        assert await paused(w.pipeline.submit(push))
        row = await w.push(push.id)
        now = START + timedelta(seconds=1)
        assert (row.state, row.submit_started_at, row.next_run_at) == ("submitting", now, now + timedelta(seconds=90))
        assert row.clientmsgid == (clientmsgid and clientmsgid.format(id=push.id))
        assert w.api.calls == []


async def test_after_the_submit_the_pipeline_can_stop_before_writing_the_answer(world):
    async with world(scheduler={"pause_at": ["after:submit"]}) as w:
        push = await w.add("approved", media_id="M1")
        assert await paused(w.pipeline.submit(push))
        assert w.api.named("publish_submit") == [("M1",)]
        assert (await w.push(push.id)).state == "submitting"


async def test_a_publish_submitted_is_polled_later(world, caplog):
    caplog.set_level(logging.INFO, logger="scheduler.pipeline")
    async with world() as w:
        push = await w.add("approved", media_id="M1", retries=2, polls=4)
        w.api.answers["publish_submit"] = 778

        async def slow():  # the answer comes 5 s after the call: the first poll counts from it
            w.clock.advance(5)

        w.api.hooks["publish_submit"] = slow
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        answered = START + timedelta(seconds=5)
        assert (row.state, row.publish_id, row.submitted_at, row.retries, row.polls, row.next_run_at) == (
            "submitted", "778", answered, 0, 0, answered + timedelta(seconds=90))
        assert (await w.timeline(push.id))[-1] == ("state", "submitted", texts.EV_SUBMITTED_PUBLISH, {"publish_id": 778})
        assert logged(caplog, f"push {push.id} submitted by {WORKER}: {{'publish_id': 778}}") == [push.id]


@pytest.mark.parametrize(("protection", "tag_id", "state"), [
    (True, None, "confirming"), (True, 5, "submitted"), (False, None, "submitted")])
async def test_a_broadcast_submitted_waits_for_a_confirmation_only_to_all_under_protection(world, protection, tag_id, state):
    async with world(scheduler={"broadcast_protection": protection}) as w:
        push = await w.add("approved", kind="broadcast", media_id="M1", tag_id=tag_id, retries=1, polls=2)

        async def slow():
            w.clock.advance(5)

        w.api.hooks["mass_sendall"] = slow
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        answered = START + timedelta(seconds=5)
        assert (row.state, row.msg_id, row.msg_data_id, row.submitted_at, row.retries, row.polls, row.next_run_at) == (
            state, "1001", "2002", answered, 0, 0, answered + timedelta(seconds=90))
        assert (await w.timeline(push.id))[-1] == (
            "state", state, texts.EV_SUBMITTED_MASS, {"msg_id": 1001, "msg_data_id": 2002, "clientmsgid": f"push-{push.id}-1"})


async def test_a_broadcast_answer_without_msg_data_id_or_a_known_clientmsgid(world):
    async with world() as w:
        w.api.answers["mass_sendall"] = {"msg_id": 1001}
        push = await w.add("approved", kind="broadcast", media_id="M1")
        await w.pipeline.submit(push)
        assert ((await w.push(push.id)).msg_id, (await w.push(push.id)).msg_data_id) == ("1001", None)
        # 45065: the first send of this clientmsgid went through; its msg_id is ours.
        dup = await w.add("approved", kind="broadcast", media_id="M2")
        w.api.errors["mass_sendall"] = [DuplicateClientMsgId(45065, "dup", "message/mass/sendall", msg_id=777)]
        await w.pipeline.submit(dup)
        row = await w.push(dup.id)
        assert (row.state, row.msg_id, row.msg_data_id) == ("submitted", "777", None)


async def test_send_too_fast_waits_a_minute_in_submitting(world):
    async with world() as w:
        push = await w.add("approved", kind="broadcast", media_id="M1")
        w.api.errors["mass_sendall"] = [SendTooFast(45066, "too fast", "message/mass/sendall")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.next_run_at) == ("submitting", START + timedelta(seconds=60))
        assert (await w.timeline(push.id))[-1] == ("wechat", "submitting", texts.EV_TOO_FAST, {"errcode": 45066})


@pytest.mark.parametrize(("error", "poll", "wait"), [
    (OutcomeUnknown(-1, "timeout", "freepublish/submit"), 90, 60),
    (WeChatError(None, "connection reset", "freepublish/submit"), 30, 30),
])
async def test_a_submit_without_an_answer_is_reconciled_later(world, error, poll, wait):
    async with world(scheduler={"poll_seconds": poll}) as w:
        push = await w.add("approved", media_id="M1")
        w.api.errors["publish_submit"] = [error]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("submitting", 0, START + timedelta(seconds=wait))
        assert (await w.timeline(push.id))[-1] == ("wechat", "submitting", texts.EV_UNKNOWN_OUTCOME, {"error": str(error)})


async def test_a_transient_refusal_of_the_submit_goes_back_to_approved(world):
    async with world() as w:
        push = await w.add("approved", media_id="M1")
        w.api.errors["publish_submit"] = [TransientError(45011, "minute quota", "freepublish/submit")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("approved", 1, START + timedelta(seconds=30))
        assert (await w.timeline(push.id))[-1][:3] == (
            "state", "approved", f"提交没有成功：{texts.cause(45011)}，30 秒后重试")


async def test_a_broadcast_refused_for_the_draft_media_goes_as_uploaded_news(world, monkeypatch):
    async with world() as w:
        asked = []

        async def news_media_id(services, push, worker=None):
            asked.append((services is w.services, push.id, worker))
            return "NEWS_1"

        monkeypatch.setattr(pipeline_module, "news_media_id", news_media_id)
        push = await w.add("approved", kind="broadcast", media_id="M1")
        w.api.errors["mass_sendall"] = [ContentRejected(40007, "invalid media_id", "message/mass/sendall")]
        await w.pipeline.submit(push)
        assert asked == [(True, push.id, WORKER)]
        same = {"clientmsgid": f"push-{push.id}-1", "send_ignore_reprint": 0, "tag_id": None}
        assert w.api.named("mass_sendall") == [("M1", same), ("NEWS_1", same)]
        assert (await w.push(push.id)).state == "submitted"


@pytest.mark.parametrize(("code", "news"), [(40007, "N1"), (45002, None)])
async def test_other_refusals_of_a_broadcast_fail_it(world, monkeypatch, code, news):
    async with world() as w:
        async def news_media_id(services, push, worker=None):
            raise AssertionError("not this way")

        monkeypatch.setattr(pipeline_module, "news_media_id", news_media_id)
        push = await w.add("approved", kind="broadcast", media_id="M1", news_media_id=news)
        w.api.errors["mass_sendall"] = [ContentRejected(code, "refused", "message/mass/sendall")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.error_code, row.error_reason) == ("failed", code, texts.explain(code, "refused"))
        assert [c[0] for c in w.api.named("mass_sendall")] == [news or "M1"]


# --- quotas -----------------------------------------------------------------------------------------


async def test_no_broadcast_quota_moves_the_push_to_the_next_free_slot(world):
    async with world() as w:
        push = await w.add("approved", kind="broadcast", media_id="M1", retries=2)
        await w.add("approved", kind="broadcast", planned_at=local(6, 20))  # tomorrow's broadcast
        w.api.errors["mass_sendall"] = [QuotaExceeded(45028, "no quota", "message/mass/sendall")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        at = local(7, 8)  # the first slot of the next local day that has no broadcast yet
        cause = "群发次数已用完（微信错误码 45028）"
        reason = texts.REASON_QUOTA.format(cause=cause, at=planning.show(at, w.services.settings))
        assert (row.state, row.planned_at, row.next_run_at, row.error_code, row.error_reason, row.retries) == (
            "approved", at, at, 45028, reason, 0)
        assert (await w.timeline(push.id))[-1] == ("state", "approved", reason, None)
        notes = await w.notices(push.id)
        assert [(o, k) for o, k, _ in notes] == [(EDITOR, "rescheduled"), (OTHER, "rescheduled")]
        assert cause in notes[0][2] and planning.show(at, w.services.settings) in notes[0][2]


async def test_a_service_accounts_monthly_broadcasts_move_to_next_month(world):
    async with world(wechat={"account_type": "service"}) as w:
        push = await w.add("approved", kind="broadcast", media_id="M1")
        w.api.errors["mass_sendall"] = [QuotaExceeded(45028, "no quota", "message/mass/sendall")]
        await w.pipeline.submit(push)
        assert (await w.push(push.id)).planned_at == datetime(2026, 2, 1, 8, 0, tzinfo=planning.ZoneInfo("Asia/Shanghai"))


async def test_a_quota_while_drafting_keeps_drafting_after_the_quota_is_back(world, monkeypatch):
    async with world() as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        # Planned for tomorrow's first slot itself: that slot is still its own.
        push = await w.add("preparing", planned_at=local(6, 8))
        await w.add("approved", planned_at=local(6, 12))  # another push holds 12:00
        w.api.errors["draft_add"] = [QuotaExceeded(45009, "quota", "draft/add")]
        await w.pipeline.prepare(push)
        row = await w.push(push.id)
        assert (row.state, row.planned_at, row.next_run_at, row.error_code) == ("preparing", local(6, 8), START, 45009)
        assert (await w.timeline(push.id))[-2] == (
            "wechat", "preparing", f"生成草稿没有成功：{texts.cause(45009)}",
            {"errcode": 45009, "endpoint": "draft/add", "errmsg": "quota"})
        assert (await w.timeline(push.id))[-1][0] == "note"


async def test_without_slots_a_quota_moves_the_push_to_when_it_is_back(world):
    async with world(scheduler={"slots": {}}) as w:
        push = await w.add("approved", media_id="M1")
        w.api.errors["publish_submit"] = [QuotaExceeded(45099, "some quota", "freepublish/submit")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        at = local(6, 0)
        assert (row.state, row.planned_at, row.next_run_at) == ("approved", at, at)
        assert row.error_reason == texts.REASON_QUOTA.format(cause="微信配额已用完（微信错误码 45099）",
                                                             at=planning.show(at, w.services.settings))
