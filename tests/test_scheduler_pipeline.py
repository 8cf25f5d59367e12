"""The push pipeline against the local platform: from planning to done, preview, approval, cancel,
quota errors, each WeChat error class, and the job-finish events writing URLs back."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.clock import FakeClock
from scheduler import editing, planning, previews
from store.models.content import Article, ImageUpload
from store.models.pushes import Notification, PushArticle, PushEvent
from tests.scheduler_support import EDITOR, bot_env


def soon(env, minutes: float = 0) -> object:
    return env.services.clock.now() + timedelta(minutes=minutes)


async def create(env, ids, **kw):
    at = kw.pop("at", None)
    # Due in a moment; on a loaded machine (a mutation run) the article checks before the time check
    # can take longer than the moment, so a time that has passed meanwhile is taken again, later.
    for margin in (0.01, 0.05, 0.2):
        spec = editing.PushSpec(article_ids=ids, at=at or soon(env, margin), **kw)
        try:
            return await editing.create(env.services, spec)
        except planning.PlanningError:
            if at is not None or margin == 0.2:
                raise


async def timeline(env, push_id) -> list[str]:
    async with env.services.db() as s:
        return [e.detail for e in (await s.scalars(
            select(PushEvent).where(PushEvent.push_id == push_id).order_by(PushEvent.id))).all()]


async def notices(env, push_id) -> list[Notification]:
    async with env.services.db() as s:
        return list((await s.scalars(select(Notification).where(Notification.push_id == push_id)
                                     .order_by(Notification.id))).all())


async def test_publish_from_planning_to_done(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}) as env:
        ids = await env.articles(3, images=3)
        push = await create(env, ids)
        push = await env.drive(push.id, ("done",))

        # Images: each distinct image uploaded once (2 own + 1 shared per article), 3 covers.
        assert len(sandbox.calls("media/uploadimg")) == 3 * 2 + 1
        assert len(sandbox.calls("material/add_material")) == 3
        assert len(sandbox.calls("draft/add")) == 1
        assert len(sandbox.calls("freepublish/submit")) == 1
        state = sandbox.platform.state
        assert state["stripped_images"] == []  # every <img> was one of the platform's own URLs
        (pub,) = state["publishes"].values()
        assert [i["title"] for i in pub["news_item"]] == [f"测试推送文章{i}" for i in range(3)]
        assert pub["status"] == 0 and push.article_id == pub["article_id"]

        async with env.services.db() as s:
            arts = {a.id: a for a in (await s.scalars(select(Article).where(Article.id.in_(ids)))).all()}
            links = (await s.scalars(select(PushArticle).where(PushArticle.push_id == push.id)
                                     .order_by(PushArticle.position))).all()
        assert [link.url for link in links] == pub["article_urls"]
        assert [arts[i].wechat_url for i in ids] == pub["article_urls"]
        assert {arts[i].status for i in ids} == {"published"}
        assert "已提交发布" in " ".join(await timeline(env, push.id))
        # The editor has not written to the account in 48 h: the notices wait for the window; the
        # "will go out at …" one is no longer true once the push is done and is never sent.
        await env.runner.tick()  # the done notice came with the event; the tick tries to deliver it
        kinds = [(n.kind, n.status) for n in await notices(env, push.id)]
        assert kinds == [("scheduled", "obsolete"), ("done", "waiting")]

        # A second push of other articles reuses the shared image: one more upload per own image only.
        more = await env.articles(1, images=3, start=10)
        second = await create(env, more, at=soon(env, 60 * 5))
        await env.runner.tick()
        assert len(sandbox.calls("media/uploadimg")) == 3 * 2 + 1 + 2
        async with env.services.db() as s:
            assert len((await s.scalars(select(ImageUpload))).all()) == 3 * 2 + 1 + 3 + 2 + 1
        assert (await env.push(second.id)).state == "approved"


async def test_broadcast_from_planning_to_done(sandbox, make_settings):
    sandbox.platform.set_follower("o_follower_1")
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}) as env:
        ids = await env.articles(2)
        push = await create(env, ids, kind="broadcast", send_ignore_reprint=True)
        push = await env.drive(push.id, ("done",))
        (mass,) = sandbox.platform.state["mass"].values()
        assert mass["clientmsgid"] == f"push-{push.id}-1" and mass["is_to_all"]
        assert mass["send_ignore_reprint"] == 1
        assert push.msg_id == str(mass["msg_id"])
        async with env.services.db() as s:
            urls = [a.wechat_url for a in (await s.scalars(
                select(Article).where(Article.id.in_(ids)).order_by(Article.id))).all()]
        assert urls == mass["article_urls"]


async def test_broadcast_falls_back_to_uploadnews(sandbox, make_settings):
    sandbox.platform.configure(draft_media_for_mass=False)
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}) as env:
        push = await create(env, await env.articles(1), kind="broadcast", preview=True)
        push = await env.drive(push.id, ("done",))
        assert len(sandbox.calls("media/uploadnews")) == 1
        # The preview and the broadcast both carry the uploadnews media, not the draft's.
        (mass,) = sandbox.platform.state["mass"].values()
        (preview,) = sandbox.platform.state["previews"]
        assert push.news_media_id and push.news_media_id != push.media_id
        assert mass["media_id"] == push.news_media_id and mass["is_to_all"] and mass["status"] == "sent"
        assert preview["payload"]["media_id"] == push.news_media_id and preview["openid"] == EDITOR
        async with env.services.db() as s:
            title = (await s.scalars(select(Article))).one().title
        assert [a["title"] for a in mass["news_item"]] == [title] == [a["title"] for a in preview["news_item"]]


async def test_preview_then_approval_required(sandbox, make_settings):
    async with bot_env(sandbox, make_settings) as env:
        push = await create(env, await env.articles(2), preview=True)
        push = await env.drive(push.id, ("previewed",))
        await env.runner.tick()
        assert (await env.push(push.id)).state == "previewed"  # waits for an editor
        (preview,) = sandbox.platform.state["previews"]
        assert preview["openid"] == EDITOR and len(preview["news_item"]) == 2
        assert [n.kind for n in await notices(env, push.id)] == ["approval"]
        assert sandbox.calls("freepublish/submit") == []

        await editing.approve(env.services, push.id, by="editor")
        push = await env.drive(push.id, ("done",))
        assert push.approved_by == "editor"


async def test_an_editor_who_cannot_receive_the_preview_does_not_fail_the_push(sandbox, make_settings):
    stranger = "o_not_a_follower"
    async with bot_env(sandbox, make_settings, editors={"openids": [stranger, EDITOR]}) as env:
        push = await create(env, await env.articles(1), preview=True)
        push = await env.drive(push.id, ("previewed",))
        assert [p["openid"] for p in sandbox.platform.state["previews"]] == [EDITOR]
        async with env.services.db() as s:
            details = [e.detail for e in await s.scalars(select(PushEvent).where(PushEvent.push_id == push.id))]
        assert any(f"没能发到 {stranger}" in d and "40003" in d and f"已发到 {EDITOR}" in d for d in details)
        # Per recipient, kept: who got it and why the other did not.
        rows = {r.openid: r for r in await previews.rows_of(env.services, push.id)}
        assert rows[EDITOR].status == "sent"
        assert rows[stranger].status == "failed" and rows[stranger].error_code == 40003


async def test_cancel_before_submit_deletes_the_draft(sandbox, make_settings):
    async with bot_env(sandbox, make_settings) as env:
        ids = await env.articles(1)
        push = await create(env, ids)
        await env.drive(push.id, ("drafted",))
        assert len(sandbox.platform.state["drafts"]) == 1
        await editing.cancel(env.services, push.id)
        await env.runner.tick()
        assert sandbox.platform.state["drafts"] == {}
        assert sandbox.calls("freepublish/submit") == []
        async with env.services.db() as s:
            assert (await s.get(Article, ids[0])).status == "ready"
        with pytest.raises(editing.EditError):
            await editing.approve(env.services, push.id)


async def test_quota_error_moves_the_push_to_the_next_allowed_slot(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}) as env:
        push = await create(env, await env.articles(1), kind="broadcast")
        await sandbox.control("faults", {"endpoint": "message/mass/sendall", "errcode": 45028})
        push = await env.drive(push.id, ("approved",), until_fn=lambda p: p.error_code == 45028)
        # A subscription account broadcasts once a day: the first slot of the next local day.
        tz = ZoneInfo("Asia/Shanghai")
        tomorrow = env.services.clock.now().astimezone(tz).date() + timedelta(days=1)
        assert push.planned_at.astimezone(tz) == datetime.combine(tomorrow, time(8, 0), tzinfo=tz)
        assert push.next_run_at == push.planned_at
        assert "45028" in push.error_reason
        assert [n.kind for n in await notices(env, push.id)][-1] == "rescheduled"
        assert sandbox.platform.state["mass"] == {}


@pytest.mark.parametrize(
    ("endpoint", "errcode", "times", "outcome", "code"),
    [
        ("draft/add", -1, 4, "done", None),  # TransientError: the client's 3 retries, then our back-off
        ("draft/add", 40001, 1, "done", None),  # TokenInvalid: refreshed and retried by the client
        ("draft/add", 45002, 1, "failed", 45002),  # ContentRejected: the article must change
        ("freepublish/submit", 48001, 1, "failed", 48001),  # PermissionDenied
        ("freepublish/submit", 53503, 1, "failed", 53503),  # publish check failed
        ("draft/add", 40164, 1, "failed", 40164),  # FatalCredentials (IP whitelist)
    ],
)
async def test_each_error_class(sandbox, make_settings, endpoint, errcode, times, outcome, code):
    # A fake clock: the client's and the pipeline's back-offs pass at once (the events are then
    # refused by the webhook's freshness check, so the sparse polling finishes the push).
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}, clock=FakeClock(),
                       webhook=False) as env:
        push = await create(env, await env.articles(1))
        sandbox.platform.add_fault(endpoint, errcode=errcode, times=times)
        push = await env.drive(push.id, ("done", "failed"), timeout=20)
        assert push.state == outcome
        assert push.error_code == code
        if outcome == "failed":
            assert str(errcode) in push.error_reason
            await env.runner.tick()
            assert [n.kind for n in await notices(env, push.id)][-1] == "failed"
        assert len(sandbox.platform.state["publishes"]) == (1 if outcome == "done" else 0)


async def test_daily_api_quota_waits_for_tomorrow(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}) as env:
        push = await create(env, await env.articles(1))
        sandbox.platform.add_fault("freepublish/submit", errcode=45009)
        push = await env.drive(push.id, ("approved",), until_fn=lambda p: p.error_code == 45009)
        tz = ZoneInfo("Asia/Shanghai")
        assert push.planned_at.astimezone(tz).date() == env.services.clock.now().astimezone(tz).date() + timedelta(days=1)
        assert sandbox.platform.state["publishes"] == {}


async def test_send_too_fast_waits_a_minute_with_the_same_clientmsgid(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}) as env:
        push = await create(env, await env.articles(1), kind="broadcast")
        sandbox.platform.add_fault("message/mass/sendall", errcode=45066)
        push = await env.drive(push.id, ("submitting",))
        wait = (push.next_run_at - env.services.clock.now()).total_seconds()
        assert 50 < wait <= 60
        await _due_now(env, push.id)
        push = await env.drive(push.id, ("done",))
        cids = [c["params"]["body"]["clientmsgid"] for c in sandbox.calls("message/mass/sendall")]
        assert cids == [f"push-{push.id}-1"] * 2
        assert len(sandbox.platform.state["mass"]) == 1


async def _due_now(env, push_id):
    from sqlalchemy import update

    from store.models.pushes import Push

    async with env.services.db.begin() as s:
        await s.execute(update(Push).where(Push.id == push_id).values(next_run_at=env.services.clock.now()))


async def test_publish_submit_without_answer_is_reconciled_not_repeated(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}) as env:
        push = await create(env, await env.articles(2))
        # The connection drops before the platform saw the submit: after the settle time, the draft is
        # still in the box and nothing was published, so it is submitted again — once.
        sandbox.platform.add_fault("freepublish/submit", drop=True)
        push = await env.drive(push.id, ("done",))
        assert len(sandbox.calls("freepublish/submit")) == 2
        assert len(sandbox.platform.state["publishes"]) == 1
        assert push.attempt == 2
        assert any("核对" in line for line in await timeline(env, push.id))


async def test_publish_found_by_reconciliation(sandbox, make_settings):
    """The submit reached WeChat but the answer was lost: batchget finds the publish, no resubmit."""
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}, webhook=False) as env:
        push = await create(env, await env.articles(2))
        push = await env.drive(push.id, ("approved",))
        await _due_now(env, push.id)
        # Publish it behind the pipeline's back, as if our submit had gone through unanswered.
        await env.runner.claim(1)
        p = await env.runner.pipeline.load(push.id)
        await env.runner.pipeline.save(p, "submitting", submit_started_at=env.services.clock.now())
        await sandbox.api("freepublish/submit", {"media_id": p.media_id})
        await sandbox.settle()
        await env.runner.release(push.id)
        push = await env.drive(push.id, ("done",))
        assert len(sandbox.calls("freepublish/submit")) == 1
        (pub,) = sandbox.platform.state["publishes"].values()
        assert push.article_id == pub["article_id"]


async def test_failed_publish_event_fails_the_push_and_frees_the_articles(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True, "poll_seconds": 3600}) as env:
        ids = await env.articles(2)
        push = await create(env, ids)
        sandbox.platform.add_fault("publish_job", publish_status=4, fail_idx=[2])
        push = await env.drive(push.id, ("failed",))
        # The refused article is named, and what to do is said.
        assert push.error_code == 4 and "没有通过平台审核" in push.error_reason
        assert "《测试推送文章1》" in push.error_reason and f"push retry {push.id}" in push.error_reason
        assert sandbox.calls("freepublish/get") == []  # the event did it, no polling
        async with env.services.db() as s:
            assert {a.status for a in (await s.scalars(select(Article).where(Article.id.in_(ids)))).all()} == {"ready"}
        pushed = await editing.retry(env.services, push.id)
        assert pushed.attempt == 2 and pushed.state == "planned"
        await env.drive(push.id, ("approved",))  # its time is past: the next free slot, not at once
        assert len(sandbox.platform.state["publishes"]) == 1
        await editing.send_now(env.services, push.id)
        push = await env.drive(push.id, ("done",))


async def test_polling_finishes_when_the_event_is_lost(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}, webhook=False) as env:
        push = await create(env, await env.articles(1))
        push = await env.drive(push.id, ("done",))
        assert 1 <= len(sandbox.calls("freepublish/get")) <= 2
        async with env.services.db() as s:
            assert (await s.scalars(select(Article))).first().wechat_url


async def test_broadcast_protection_confirm_and_timeout(sandbox, make_settings):
    sandbox.platform.configure(broadcast_protection=True)
    sandbox.platform.set_follower("o_follower_1")
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True, "broadcast_protection": True}) as env:
        first, second = await env.articles(2)
        # Not confirmed: after 30 minutes WeChat drops it, and the push fails saying why.
        push = await create(env, [first], kind="broadcast")
        push = await env.drive(push.id, ("confirming",))
        sandbox.platform.advance_clock(31 * 60)
        sandbox.platform.tick()
        push = await env.drive(push.id, ("failed",))
        assert "30 分钟" in push.error_reason
        assert sandbox.platform.state["mass"][push.msg_id]["status"] == "failed"
        # Confirmed by the administrator within the 30 minutes (the failed one freed the day's
        # broadcast): it goes out and the push is done.
        confirmed = await create(env, [second], kind="broadcast")
        confirmed = await env.drive(confirmed.id, ("confirming",))
        sandbox.platform.confirm_mass(int(confirmed.msg_id))
        await sandbox.settle()
        confirmed = await env.drive(confirmed.id, ("done",))
        assert sandbox.platform.state["mass"][confirmed.msg_id]["status"] == "sent"
        assert confirmed.error_reason is None and confirmed.msg_id != push.msg_id


async def test_unverified_account_refuses(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, wechat={"verified": False}) as env:
        ids = await env.articles(1)
        with pytest.raises(editing.EditError, match="没有认证"):
            await create(env, ids)


async def test_edit_after_drafting_redrafts(sandbox, make_settings):
    async with bot_env(sandbox, make_settings) as env:
        ids = await env.articles(3)
        push = await create(env, ids[:2])
        push = await env.drive(push.id, ("drafted",))
        first_draft = push.media_id
        await editing.approve(env.services, push.id)
        spec = editing.PushSpec(article_ids=[ids[2], ids[0]], at=push.planned_at)
        edited = await editing.edit(env.services, push.id, spec)
        assert edited.state == "planned" and edited.approved_by is None
        push = await env.drive(push.id, ("drafted",))
        assert push.media_id != first_draft
        assert list(sandbox.platform.state["drafts"]) == [push.media_id]
        (draft,) = sandbox.platform.state["drafts"].values()
        assert [i["title"] for i in draft["news_item"]] == ["测试推送文章2", "测试推送文章0"]
        async with env.services.db() as s:
            status = {a.id: a.status for a in (await s.scalars(select(Article))).all()}
        assert status == {ids[0]: "queued", ids[1]: "ready", ids[2]: "queued"}


async def test_withdraw_after_done(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, scheduler={"auto_approve": True}) as env:
        ids = await env.articles(1)
        push = await env.drive((await create(env, ids)).id, ("done",))
        await editing.withdraw(env.services, push.id)
        assert (await env.push(push.id)).state == "withdrawn"
        (pub,) = sandbox.platform.state["publishes"].values()
        assert pub["status"] == 5
        async with env.services.db() as s:
            assert (await s.get(Article, ids[0])).wechat_url is None
