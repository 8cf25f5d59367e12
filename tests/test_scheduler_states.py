"""The push states: the diagram in scheduler/states.py is the transitions table, and the one writer
refuses a transition the table does not allow."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import FakeClock
from scheduler import editing, states, texts
from store.models.content import Article
from store.models.pushes import Notification, Push, PushEvent
from tests.scheduler_support import bot_env


def test_the_docstring_diagram_is_the_transitions_table():
    drawn = {}
    for line in states.__doc__.splitlines():
        if m := re.fullmatch(r"    (\w+)\s+→(.*)", line):
            drawn[states.State(m[1])] = frozenset(states.State(t.strip()) for t in m[2].split("|") if t.strip())
    assert drawn == states.TRANSITIONS
    assert set(states.TRANSITIONS) == set(states.State)


async def test_the_writer_refuses_a_transition_the_table_does_not_allow(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, webhook=False) as env:
        ids = await env.articles(1, images=0)
        push = await editing.create(env.services, editing.PushSpec(ids, at=env.services.clock.now() + timedelta(days=1)))
        with pytest.raises(states.IllegalTransition):
            await states.write(env.services, push, "submitting")  # planned → submitting: never
        assert (await env.push(push.id)).state == "planned"
        await states.write(env.services, push, "preparing")
        stale = await env.push(push.id)
        stale.state = "planned"  # as another writer read it before the change
        with pytest.raises(states.Stale):
            await states.write(env.services, stale, "cancelled")


async def events_of(env, push_id: int) -> list[str]:
    async with env.services.db() as s:
        rows = await s.scalars(select(PushEvent).where(PushEvent.push_id == push_id).order_by(PushEvent.id))
        return [e.detail for e in rows]


async def notice_texts(env, push_id: int) -> list[str]:
    async with env.services.db() as s:
        return list(await s.scalars(select(Notification.text).where(Notification.push_id == push_id)))


async def test_a_writer_that_read_an_older_state_revision_or_lease_is_stale(sandbox, make_settings):
    """The conditional UPDATE: a writer whose copy of the push is out of date changes nothing (no
    state, no timeline line, no notice), whichever of state, revision, lease or extra condition moved."""
    async with bot_env(sandbox, make_settings, webhook=False) as env:
        ids = await env.articles(1, images=0)
        push = await editing.create(env.services, editing.PushSpec(ids, at=env.services.clock.now() + timedelta(days=1)))
        pipeline_copy = await env.push(push.id)  # the pipeline read it: planned
        await states.write(env.services, push, "preparing")  # another writer moved it on
        before = await events_of(env, push.id)
        notices_before = await notice_texts(env, push.id)
        # planned → cancelled is allowed by the table: only the state condition refuses it.
        with pytest.raises(states.Stale):
            await states.write(env.services, pipeline_copy, "cancelled", detail="过时的取消",
                               notice=("failed", "不应发出"))
        now = await env.push(push.id)
        assert (now.state, now.finished_at) == ("preparing", None)
        assert await events_of(env, push.id) == before and "过时的取消" not in before
        assert await notice_texts(env, push.id) == notices_before and "不应发出" not in notices_before

        # Same state, older revision (an editor's edit came between the read and the write).
        old_revision = await env.push(push.id)
        await states.write(env.services, push, None, detail="编辑", revision=push.revision + 1)
        with pytest.raises(states.Stale):
            await states.write(env.services, old_revision, "drafted", media_id="M_OLD")
        assert ((await env.push(push.id)).state, (await env.push(push.id)).media_id) == ("preparing", None)

        # Same state and revision, but the lease is another worker's.
        await states.write(env.services, push, None, detail="租约", claimed_by="w1")
        with pytest.raises(states.Stale):
            await states.write(env.services, await env.push(push.id), "drafted", worker="w2")
        # An extra condition that no longer holds.
        with pytest.raises(states.Stale):
            await states.write(env.services, await env.push(push.id), "drafted", worker="w1",
                               where=(Push.media_id == "M_OTHER",))
        assert (await env.push(push.id)).state == "preparing"
        # Up to date: it goes through, and says so in the timeline.
        await states.write(env.services, await env.push(push.id), "drafted", worker="w1", media_id="M_NEW")
        final = await env.push(push.id)
        assert (final.state, final.media_id, final.claimed_by) == ("drafted", "M_NEW", "w1")
        assert (await events_of(env, push.id))[-1] == f"{texts.STATE['preparing']} → {texts.STATE['drafted']}"


async def test_a_push_that_will_not_go_out_frees_its_articles_as_they_were(sandbox, make_settings):
    """cancelled or failed: queued articles are ready again, or published if they were (a WeChat URL);
    an article another push holds is left alone. A timeline line without a change (`record`)."""
    async with bot_env(sandbox, make_settings, webhook=False) as env:
        fresh, sent_before, other = await env.articles(3, images=0)
        async with env.services.db.begin() as s:
            (await s.get(Article, sent_before)).wechat_url = "https://mp.weixin.qq.com/s/old"
        at = env.services.clock.now() + timedelta(days=1)
        push = await editing.create(env.services, editing.PushSpec([fresh, sent_before], at=at))
        keep = await editing.create(env.services, editing.PushSpec([other], at=at + timedelta(hours=1)))
        assert await statuses(env, fresh, sent_before, other) == ["queued", "queued", "queued"]
        await states.record(env.services, push, "微信答复：ok", {"errcode": 0})
        async with env.services.db() as s:
            line = (await s.scalars(select(PushEvent).where(PushEvent.push_id == push.id)
                                    .order_by(PushEvent.id.desc()))).first()
        assert (line.kind, line.state, line.detail, line.data) == ("wechat", "planned", "微信答复：ok", {"errcode": 0})
        await states.write(env.services, push, "preparing")
        assert await statuses(env, fresh, sent_before, other) == ["queued", "queued", "queued"]
        await states.write(env.services, push, "failed", detail="失败")
        assert await statuses(env, fresh, sent_before, other) == ["ready", "published", "queued"]
        assert (await env.push(keep.id)).state == "planned"
        # A change without a state change writes no timeline line unless it says one.
        before = await events_of(env, keep.id)
        await states.write(env.services, keep, None, preview=True)
        assert await events_of(env, keep.id) == before
        t0 = env.services.clock.now()
        await states.write(env.services, keep, None, event_kind="editor", detail="备注", preview=False)
        async with env.services.db() as s:
            last = (await s.scalars(select(PushEvent).where(PushEvent.push_id == keep.id)
                                    .order_by(PushEvent.id.desc()))).first()
        assert (last.kind, last.detail, last.state) == ("editor", "备注", "planned")
        assert t0 <= (await env.push(keep.id)).updated_at <= env.services.clock.now()


async def statuses(env, *ids: int) -> list[str]:
    async with env.services.db() as s:
        return [(await s.get(Article, i)).status for i in ids]


async def test_timeline_lines_are_at_the_clocks_time_and_state_changes_are_of_kind_state(sandbox, make_settings):
    clock = FakeClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    async with bot_env(sandbox, make_settings, webhook=False, clock=clock) as env:
        ids = await env.articles(1, images=0)
        push = await editing.create(env.services, editing.PushSpec(ids, at=clock.now() + timedelta(days=1)))
        clock.advance(3600)
        await states.write(env.services, push, "preparing")
        clock.advance(60)
        await states.record(env.services, push, "微信答复：ok", {"errcode": 0})
        async with env.services.db() as s:
            events = list(await s.scalars(select(PushEvent).where(PushEvent.push_id == push.id).order_by(PushEvent.id)))
        change, answer = events[-2:]
        assert (change.kind, change.state, change.at.replace(tzinfo=UTC)) == (
            "state", "preparing", datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        assert (answer.kind, answer.detail, answer.data, answer.at.replace(tzinfo=UTC)) == (
            "wechat", "微信答复：ok", {"errcode": 0}, datetime(2026, 3, 2, 9, 1, tzinfo=UTC))


async def test_a_cancelled_push_frees_only_articles_it_still_holds(sandbox, make_settings):
    """An article withdrawn meanwhile stays withdrawn when the push that held it is cancelled."""
    async with bot_env(sandbox, make_settings, webhook=False) as env:
        ids = await env.articles(2, images=0)
        push = await editing.create(env.services, editing.PushSpec(ids, at=env.services.clock.now() + timedelta(days=1)))
        async with env.services.db.begin() as s:
            assert [(await s.get(Article, i)).status for i in ids] == ["queued", "queued"]
            (await s.get(Article, ids[1])).status = "withdrawn"
        await editing.cancel(env.services, push.id)
        async with env.services.db() as s:
            assert [(await s.get(Article, i)).status for i in ids] == ["ready", "withdrawn"]


async def test_an_illegal_move_names_the_push_and_both_ends(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, webhook=False) as env:
        ids = await env.articles(1, images=0)
        push = await editing.create(env.services, editing.PushSpec(ids, at=env.services.clock.now() + timedelta(days=1)))
        assert push.review == "draft"
        with pytest.raises(states.IllegalTransition, match=rf"^push {push.id}: planned → done$"):
            await states.write(env.services, push, "done")
        with pytest.raises(states.IllegalTransition, match=rf"^push {push.id}: review draft → rejected$"):
            await states.write(env.services, push, review="rejected")  # nobody rejects what was not submitted
        await states.write(env.services, push, review="draft", detail="仍为草稿")  # staying put is no move
        await states.write(env.services, push, review="submitted")
        assert (await env.push(push.id)).review == "submitted"


async def test_each_move_is_counted_once_by_the_state_entered_and_a_worker_extends_its_lease(sandbox, make_settings):
    from core import metrics

    def moves(state: str) -> float:
        return metrics.sample("wxbot_push_transitions_total", {"state": state})

    clock = FakeClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    async with bot_env(sandbox, make_settings, webhook=False, clock=clock) as env:
        ids = await env.articles(1, images=0)
        push = await editing.create(env.services, editing.PushSpec(ids, at=clock.now() + timedelta(days=1)))
        before = moves("preparing")
        await states.write(env.services, push, None, detail="领取", claimed_by="w1")
        await states.write(env.services, push, "preparing", worker="w1")
        assert moves("preparing") - before == 1
        # The lease runs [scheduler] claim_seconds from the write, unless the writer sets its own.
        lease = (await env.push(push.id)).claim_until.replace(tzinfo=UTC)
        assert lease == clock.now() + timedelta(seconds=env.services.settings.scheduler.claim_seconds)
        await states.write(env.services, push, "preparing", worker="w1", detail="仍在准备")  # no move
        await states.write(env.services, push, None, worker="w1", claim_until=clock.now() + timedelta(seconds=5))
        assert (await env.push(push.id)).claim_until.replace(tzinfo=UTC) == clock.now() + timedelta(seconds=5)
        assert moves("preparing") - before == 1
        events = await events_of(env, push.id)
        assert events[-2:] == [f"{texts.STATE['planned']} → {texts.STATE['preparing']}", "仍在准备"]


async def test_a_move_writes_its_notice_and_runs_also_in_its_transaction(sandbox, make_settings):
    """The notices and `also` are part of the write: both there after it, neither after a stale one."""
    async with bot_env(sandbox, make_settings, webhook=False) as env:
        ids = await env.articles(1, images=0)
        push = await editing.create(env.services, editing.PushSpec(ids, at=env.services.clock.now() + timedelta(days=1)))
        stale = await env.push(push.id)
        ran: list[int] = []

        async def also(s):
            ran.append((await s.get(Push, push.id)).id)

        await states.write(env.services, push, "preparing", notice=("preparing", lambda openid: f"给{openid}"),
                           also=also)
        assert ran == [push.id]
        async with env.services.db() as s:
            rows = list(await s.scalars(select(Notification).where(Notification.push_id == push.id)))
        assert [(n.openid, n.kind, n.text, n.push_state) for n in rows] == [
            ("o_editor_0001", "preparing", "给o_editor_0001", "preparing")]
        with pytest.raises(states.Stale):
            await states.write(env.services, stale, "cancelled", also=also)
        assert ran == [push.id]
        await states.write(env.services, push, "drafted", detail="草稿已建", data={"media_id": "M1"})
        async with env.services.db() as s:
            line = (await s.scalars(select(PushEvent).where(PushEvent.push_id == push.id)
                                    .order_by(PushEvent.id.desc()))).first()
        assert (line.kind, line.state, line.detail, line.data) == ("state", "drafted", "草稿已建", {"media_id": "M1"})
