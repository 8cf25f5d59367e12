"""scheduler/pipeline.py's persistence and its driver (`advance`) step by step against a fake WeChat
client and a fake clock (tests/pipeline_support.py): what is written, as which worker, which steps
run, how many, and who wins when the row changed meanwhile."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from scheduler import pipeline as pipeline_module
from scheduler import states, texts
from tests.pipeline_support import (
    START,
    WORKER,
    local,
    logged,
    migrated_template,
    paused,
    world_factory,
)
from wechat.errors import (
    PermissionDenied,
    QuotaExceeded,
    TransientError,
    WeChatError,
)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    return migrated_template(tmp_path_factory)


@pytest.fixture
def world(template_db, tmp_path, make_settings):
    return world_factory(template_db, tmp_path, make_settings)


# --- persistence -------------------------------------------------------------------------------------


async def test_load_gives_the_push_asked_for_with_its_articles(world):
    async with world() as w:
        first = await w.add()
        second = await w.add()
        got = await w.pipeline.load(second.id)
        assert got.id == second.id != first.id
        assert [a.position for a in got.articles] == [0] and got.articles[0].article_id != first.articles[0].article_id
        assert await w.pipeline.load(second.id + 100) is None


async def test_save_writes_as_this_worker_renews_the_lease_and_names_the_line(world):
    async with world() as w:
        push = await w.add()
        w.clock.advance(10)
        await w.pipeline.save(push, "preparing")
        await w.pipeline.save(push, detail="一行说明")
        await w.pipeline.save(push, kind="note", detail="一条备注")
        await w.pipeline.record(push, "微信答复", {"errcode": 0})
        await w.pipeline.record(push, "核对", kind="note")
        row = await w.push(push.id)
        assert (row.state, row.claimed_by) == ("preparing", WORKER)
        assert row.claim_until == START + timedelta(seconds=10 + 120)
        assert await w.timeline(push.id) == [
            ("state", "preparing", f"{texts.STATE['planned']} → {texts.STATE['preparing']}", None),
            ("state", "preparing", "一行说明", None),
            ("note", "preparing", "一条备注", None),
            ("wechat", "preparing", "微信答复", {"errcode": 0}),
            ("note", "preparing", "核对", None),
        ]
        # A state change is a line of kind "state" whatever `kind` says.
        await w.pipeline.save(push, "drafted", kind="wechat", detail="生成了")
        assert (await w.timeline(push.id))[-1] == ("state", "drafted", "生成了", None)


async def test_save_as_this_worker_is_refused_once_another_holds_the_lease_but_not_unclaimed(world):
    async with world() as w:
        push = await w.add()
        await w.set(push.id, claimed_by="w2")
        push = await w.push(push.id)
        with pytest.raises(states.Stale):
            await w.pipeline.save(push, detail="不该写入")
        await w.pipeline.save(push, claimed=False, detail="任务结束事件")
        row = await w.push(push.id)
        assert row.claimed_by == "w2"
        assert [d for _, _, d, _ in await w.timeline(push.id)] == ["任务结束事件"]


async def test_a_checkpoint_named_in_pause_at_stops_there_for_good_and_says_so(world, caplog):
    async with world(scheduler={"pause_at": ["before:draft_add"]}) as w:
        push = await w.add()
        assert not await paused(w.pipeline.checkpoint("before:uploads", push))
        with caplog.at_level(logging.WARNING, logger="scheduler.pipeline"):
            assert await paused(w.pipeline.checkpoint("before:draft_add", push))
        # The crash tests wait for this line before killing the process.
        assert logged(caplog, f"pipeline paused at before:draft_add (push {push.id})") == [push.id]


@pytest.mark.parametrize(("point", "state", "calls"), [
    ("before:uploads", "preparing", []),
    ("before:draft_add", "preparing", ["build_draft"]),
    ("after:draft_add", "preparing", ["build_draft", "draft_add"]),
])
async def test_prepare_stops_at_each_checkpoint(world, monkeypatch, point, state, calls):
    async with world(scheduler={"pause_at": [point]}) as w:
        made = []

        async def build_draft(services, push):
            made.append("build_draft")
            return [{"title": "文章"}]

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add()
        assert await paused(w.pipeline.prepare(push))
        assert made + [c[0] for c in w.api.calls] == calls
        assert (await w.push(push.id)).state == state


# --- the driver -------------------------------------------------------------------------------------


async def test_advance_runs_only_due_pushes_with_a_step(world, monkeypatch):
    async with world(scheduler={"auto_approve": True}) as w:
        async def build_draft(services, push):
            return [{"title": "文章"}]

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        assert await w.pipeline.advance(12345) is None
        later = await w.add(next_run_at=START + timedelta(seconds=1))
        waiting = await w.add(next_run_at=None)
        finished = await w.add("done", next_run_at=START)
        for p in (later, waiting, finished):
            got = await w.pipeline.advance(p.id)
            assert (got.id, got.state, got.next_run_at) == (p.id, p.state, p.next_run_at)
        assert w.api.calls == []
        # Due exactly now: planned → preparing → drafted → approved, then it waits for planned_at.
        due = await w.add(planned_at=START + timedelta(hours=2))
        got = await w.pipeline.advance(due.id)
        assert (got.id, got.state, got.next_run_at) == (due.id, "approved", START + timedelta(hours=2))
        assert [c[0] for c in w.api.calls] == ["draft_add"]


async def test_advance_runs_at_most_max_steps(world, monkeypatch):
    # A daily quota while drafting, with no slot to move to: the push stays due now, and each step
    # tries again; the driver stops after max_steps.
    async with world(scheduler={"slots": {}}) as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add()
        w.api.errors["draft_add"] = [QuotaExceeded(45009, "quota", "draft/add") for _ in range(20)]
        await w.pipeline.advance(push.id)
        assert len(w.api.named("draft_add")) == 12
        await w.pipeline.advance(push.id, max_steps=3)
        assert len(w.api.named("draft_add")) == 15


async def test_an_edit_made_during_a_step_wins_and_advance_returns_the_row_as_it_is(world, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="scheduler.pipeline")
    async with world() as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add("preparing")

        async def edited():
            await w.set(push.id, revision=2)

        w.api.hooks["draft_add"] = edited
        got = await w.pipeline.advance(push.id)
        assert (got.state, got.revision, got.media_id) == ("preparing", 2, None)
        assert (await w.push(push.id)).media_id is None
        assert logged(caplog, f"push {push.id} changed under us; leaving it") == [push.id]


async def test_an_error_no_step_handled_while_waiting_delays_the_next_look(world):
    async with world() as w:
        push = await w.add("submitted", publish_id="PUB_9", retries=2)
        w.api.errors["publish_get"] = [TransientError(-1, "busy", "freepublish/get")]
        got = await w.pipeline.advance(push.id)
        # 30 s doubled twice: 120 s.
        assert (got.state, got.retries, got.next_run_at) == ("submitted", 3, START + timedelta(seconds=120))
        row = await w.push(push.id)
        assert (row.retries, row.next_run_at) == (3, START + timedelta(seconds=120))
        assert await w.timeline(push.id) == [
            ("wechat", "submitted", "查询结果没有成功：微信系统繁忙（-1）", {"errcode": -1, "endpoint": "freepublish/get"}),
        ]


@pytest.mark.parametrize(("account", "code", "back"), [
    ("subscription", 45009, local(6, 0)),  # the daily API quota: at the next local midnight
    ("service", 45028, local(31, 0) + timedelta(days=1)),  # a service account's broadcasts: next month
])
async def test_a_quota_error_while_waiting_looks_again_when_the_quota_is_back(world, account, code, back):
    async with world(wechat={"account_type": account}) as w:
        push = await w.add("confirming", kind="broadcast", msg_id="1001", submitted_at=START)
        w.api.errors["mass_get"] = [QuotaExceeded(code, "quota", "message/mass/get")]
        await w.pipeline.advance(push.id)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("confirming", 1, back)
        assert (await w.timeline(push.id))[-1][2] == f"查询结果没有成功：{texts.cause(code)}"


async def test_an_unknown_error_while_waiting_is_told_in_wechats_words(world):
    async with world() as w:
        push = await w.add("submitted", publish_id="PUB_9")
        w.api.errors["publish_get"] = [WeChatError(61450, "system error", "freepublish/get")]
        await w.pipeline.advance(push.id)
        assert (await w.timeline(push.id))[-1][2:] == (
            "查询结果没有成功：微信拒绝了请求（system error）（61450）", {"errcode": 61450, "endpoint": "freepublish/get"})
        assert (await w.push(push.id)).state == "submitted"


async def test_an_edit_made_while_a_step_error_is_handled_wins(world):
    async with world() as w:
        push = await w.add("submitted", publish_id="PUB_9")

        async def edited():
            await w.set(push.id, revision=5)

        w.api.hooks["publish_get"] = edited
        w.api.errors["publish_get"] = [TransientError(-1, "busy", "freepublish/get")]
        got = await w.pipeline.advance(push.id)
        assert (got.revision, got.retries, got.next_run_at) == (5, 0, START)


async def test_a_step_error_before_submitting_is_handled_by_its_class(world):
    async with world() as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        w.api.errors["mass_preview"] = [PermissionDenied(48001, "api unauthorized", "message/mass/preview")]
        got = await w.pipeline.advance(push.id)
        assert (got.state, got.error_code) == ("failed", 48001)
        assert got.error_reason == texts.explain(48001)
        lines = await w.timeline(push.id)
        assert ("wechat", "drafted", "发送预览没有成功：公众号没有使用这个接口的权限（48001）",
                {"errcode": 48001, "endpoint": "message/mass/preview", "errmsg": "api unauthorized"}) in lines
