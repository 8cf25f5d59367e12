"""scheduler/pipeline.py from planned to approved, step by step against a fake WeChat client and a
fake clock (tests/pipeline_support.py): drafting, the old draft deleted, errors while drafting, the
cancelled push's cleanup, previews, waiting for an approval or approving automatically."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler import editing, states, texts
from scheduler import pipeline as pipeline_module
from scheduler.drafts import ArticleMissing
from store.content.render import ArticleTooLong
from store.models.pushes import PushPreview
from tests.pipeline_support import (
    EDITOR,
    OTHER,
    START,
    migrated_template,
    paused,
    world_factory,
)
from wechat.errors import (
    ContentRejected,
    TokenInvalid,
    TransientError,
    WeChatError,
)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    return migrated_template(tmp_path_factory)


@pytest.fixture
def world(template_db, tmp_path, make_settings):
    return world_factory(template_db, tmp_path, make_settings)


# --- planned / preparing ----------------------------------------------------------------------------


async def test_prepare_drafts_and_says_so(world, monkeypatch):
    async with world() as w:
        seen = []

        async def build_draft(services, push):
            row = await w.push(push.id)
            seen.append((services is w.services, row.state, row.next_run_at))
            return [{"title": "文章1"}]

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add(retries=3)
        w.clock.advance(5)

        async def slow():  # draft/add answers 2 s later: the next step is due from then
            w.clock.advance(2)

        w.api.hooks["draft_add"] = slow
        await w.pipeline.prepare(push)
        assert seen == [(True, "preparing", START + timedelta(seconds=5))]
        assert w.api.calls == [("draft_add", [{"title": "文章1"}])]
        row = await w.push(push.id)
        assert (row.state, row.media_id, row.retries, row.next_run_at) == ("drafted", "M_NEW", 0, START + timedelta(seconds=7))
        assert await w.timeline(push.id) == [
            ("state", "preparing", f"{texts.STATE['planned']} → {texts.STATE['preparing']}", None),
            ("state", "drafted", texts.EV_DRAFTED, {"media_id": "M_NEW"}),
        ]


async def test_prepare_deletes_the_draft_of_an_older_revision_first(world, monkeypatch):
    async with world() as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add("preparing", media_id="M_OLD", news_media_id="N_OLD")
        await w.pipeline.prepare(push)
        assert [c[0:2] for c in w.api.calls] == [("draft_delete", "M_OLD"), ("draft_add", [])]
        row = await w.push(push.id)
        assert (row.media_id, row.news_media_id) == ("M_NEW", None)
        assert (await w.timeline(push.id))[0] == ("wechat", "preparing", texts.EV_OLD_DRAFT_DELETED, {"media_id": "M_OLD"})


@pytest.mark.parametrize(("error", "code", "reason"), [
    (ArticleMissing(7), None, "文章 #7 已被删除"),
    (ArticleTooLong("正文太长，请删减"), None, "正文太长，请删减"),
])
async def test_prepare_fails_when_an_article_must_change(world, monkeypatch, error, code, reason):
    async with world() as w:
        async def build_draft(services, push):
            raise error

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add()
        await w.pipeline.prepare(push)
        row = await w.push(push.id)
        assert (row.state, row.error_code, row.error_reason, row.next_run_at) == ("failed", code, reason, None)
        assert w.api.calls == []
        assert [k for _, k, _ in await w.notices(push.id)] == ["failed", "failed"]


async def test_prepare_backs_off_on_a_transient_error_of_the_uploads_or_draft_add(world, monkeypatch):
    async with world() as w:
        uploads = [TransientError(-1, "busy", "media/uploadimg")]

        async def build_draft(services, push):
            if uploads:
                raise uploads.pop()
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add("preparing", retries=1)
        await w.pipeline.prepare(push)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("preparing", 2, START + timedelta(seconds=60))
        assert (await w.timeline(push.id))[-1] == (
            "wechat", "preparing", "上传图片没有成功：微信系统繁忙（-1），60 秒后重试",
            {"errcode": -1, "endpoint": "media/uploadimg"})
        w.api.errors["draft_add"] = [TokenInvalid(40001, "invalid credential", "draft/add")]
        await w.pipeline.prepare(row)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("preparing", 3, START + timedelta(seconds=120))
        assert (await w.timeline(push.id))[-1][2].startswith("生成草稿没有成功：")
        assert (await w.timeline(push.id))[-1][2].endswith("（40001），120 秒后重试")


async def test_an_error_without_a_code_is_retried_and_a_refusal_fails(world, monkeypatch):
    async with world() as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add("preparing")
        w.api.errors["draft_add"] = [WeChatError(None, "connection reset", "draft/add")]
        await w.pipeline.prepare(push)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("preparing", 1, START + timedelta(seconds=30))
        w.api.errors["draft_add"] = [ContentRejected(45002, "content too long", "draft/add")]
        await w.pipeline.prepare(row)
        row = await w.push(push.id)
        assert (row.state, row.error_code, row.error_reason) == ("failed", 45002, texts.explain(45002))
        assert (await w.timeline(push.id))[-2] == (
            "wechat", "preparing", f"生成草稿没有成功：{texts.cause(45002)}",
            {"errcode": 45002, "endpoint": "draft/add", "errmsg": "content too long"})
        # A code we do not know: WeChat's own words are kept, in the line and in the reason.
        other = await w.add("preparing")
        w.api.errors["draft_add"] = [WeChatError(61450, "system error", "draft/add")]
        await w.pipeline.prepare(other)
        row = await w.push(other.id)
        assert (row.state, row.error_code, row.error_reason) == ("failed", 61450, texts.explain(61450, "system error"))
        assert "system error" in row.error_reason
        assert (await w.timeline(other.id))[-2][2] == "生成草稿没有成功：微信拒绝了请求（system error）（61450）"


async def test_a_label_for_a_call_without_one_is_the_calls_own_name(world):
    async with world() as w:
        push = await w.add("preparing")
        await w.pipeline._wechat_error(push, TransientError(-1, "busy", "x/y"), "某个调用")
        assert (await w.timeline(push.id))[-1][2] == "某个调用没有成功：微信系统繁忙（-1），30 秒后重试"


# --- cancelled -------------------------------------------------------------------------------------


async def test_cleanup_deletes_the_draft_or_notes_that_it_is_gone(world):
    async with world() as w:
        gone = await w.add("cancelled", media_id="M_GONE", news_media_id="N1")
        w.api.errors["draft_delete"] = [WeChatError(40099, "media gone", "draft/delete")]
        await w.pipeline.cleanup(gone)
        row = await w.push(gone.id)
        assert (row.state, row.media_id, row.news_media_id, row.next_run_at) == ("cancelled", None, None, None)
        assert await w.timeline(gone.id) == [
            ("wechat", "cancelled", "旧草稿没能删除（微信拒绝了请求（media gone）（40099）），可能已不在草稿箱",
             {"media_id": "M_GONE", "errcode": 40099}),
        ]
        nothing = await w.add("cancelled")
        await w.pipeline.cleanup(nothing)
        assert (await w.push(nothing.id)).next_run_at is None
        assert w.api.named("draft_delete") == [("M_GONE",)]


# --- drafted / previewed ---------------------------------------------------------------------------


async def test_after_drafting_the_preview_goes_to_each_editor_who_has_not_got_it(world):
    async with world() as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        async with w.services.db.begin() as s:
            s.add(PushPreview(push_id=push.id, revision=1, openid=EDITOR, status="sent", by="cli", created_at=START))
        w.clock.advance(3)
        await w.pipeline.after_draft(push)
        assert w.api.named("mass_preview") == [(OTHER, "M1")]
        row = await w.push(push.id)
        assert (row.state, row.next_run_at) == ("previewed", START + timedelta(seconds=3))
        assert (await w.timeline(push.id))[-1] == ("state", "previewed", f"预览：已发到 {OTHER}", None)
        assert (await w.previews(push.id))[-1] == (1, OTHER, "sent", "pipeline")


async def test_the_preview_summary_names_every_recipient_or_says_there_is_none(world):
    async with world() as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        await w.pipeline.after_draft(push)
        assert (await w.timeline(push.id))[-1][2] == f"预览：已发到 {EDITOR}；已发到 {OTHER}"
    async with world(editors=[]) as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        await w.pipeline.after_draft(push)
        assert (await w.timeline(push.id))[-1][2] == f"预览：{texts.PREVIEW_NOBODY}"


async def test_the_preview_step_stops_at_its_checkpoint(world):
    async with world(scheduler={"pause_at": ["before:preview"]}) as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        assert await paused(w.pipeline.after_draft(push))
        assert w.api.calls == [] and (await w.push(push.id)).state == "drafted"


async def test_without_an_approval_the_push_waits_and_asks_the_editors(world):
    async with world() as w:
        await w.add("done")  # so that the push's id (2) is its revision too
        push = await w.add("previewed", media_id="M1", preview=True, revision=2)
        assert push.id == push.revision
        async with w.services.db.begin() as s:  # an older revision's preview: not of this draft
            s.add(PushPreview(push_id=push.id, revision=1, openid=EDITOR, status="sent", by="cli", created_at=START))
        await w.pipeline.after_draft(push)
        row = await w.push(push.id)
        assert (row.state, row.next_run_at, row.approved_by) == ("previewed", None, None)
        (a, b) = await w.notices(push.id)
        assert (a[0], a[1], b[0], b[1]) == (EDITOR, "approval", OTHER, "approval")
        assert texts.NOTICE_NO_PREVIEW in a[2] and texts.NOTICE_PREVIEW_YOURS not in a[2]
        assert w.api.calls == []


async def test_an_approval_given_while_the_pipeline_looked_wins(world):
    """The wait for an approval is written on the condition that nobody approved meanwhile."""
    async with world() as w:
        push = await w.add("drafted", media_id="M1")
        copy = await w.push(push.id)
        w.clock.advance(3)
        await editing.approve(w.services, push.id, by="editor")
        with pytest.raises(states.Stale):
            await w.pipeline.after_draft(copy)
        row = await w.push(push.id)
        assert (row.approved_by, row.next_run_at) == ("editor", START + timedelta(seconds=3))
        assert await w.notices(push.id) == []


async def test_auto_approve_approves_and_tells_when_it_will_go(world):
    async with world(scheduler={"auto_approve": True}) as w:
        push = await w.add("drafted", media_id="M1", planned_at=START + timedelta(hours=1))
        w.clock.advance(2)
        await w.pipeline.after_draft(push)
        row = await w.push(push.id)
        assert (row.state, row.approved_by, row.next_run_at) == ("approved", "auto_approve", START + timedelta(seconds=2))
        assert (await w.timeline(push.id))[-1] == ("state", "approved", "批准（自动批准）", None)
        assert [(o, k) for o, k, _ in await w.notices(push.id)] == [(EDITOR, "scheduled"), (OTHER, "scheduled")]


async def test_an_editors_approval_moves_on_without_a_second_line_or_notice(world):
    async with world() as w:
        push = await w.add("drafted", media_id="M1", approved_by="editor")
        await w.pipeline.after_draft(push)
        row = await w.push(push.id)
        assert (row.state, row.approved_by, row.next_run_at) == ("approved", "editor", START)
        assert await w.timeline(push.id) == [
            ("state", "approved", f"{texts.STATE['drafted']} → {texts.STATE['approved']}", None)]
        assert await w.notices(push.id) == []


async def test_an_imported_push_waits_for_an_editor_even_with_auto_approve(world):
    async with world(scheduler={"auto_approve": True}) as w:
        push = await w.add("drafted", media_id="M1", compose_key="import:2026-01-05")
        await w.pipeline.after_draft(push)
        row = await w.push(push.id)
        assert (row.state, row.approved_by, row.next_run_at) == ("drafted", None, None)



async def test_a_preview_that_needs_the_news_material_is_not_stored_once_the_lease_is_lost(world):
    async with world(editors=[EDITOR]) as w:
        push = await w.add("drafted", media_id="M1", preview=True)

        async def taken():
            await w.set(push.id, claimed_by="w2")

        w.api.hooks["mass_preview"] = taken
        w.api.errors["mass_preview"] = [ContentRejected(40007, "invalid media_id", "message/mass/preview")]
        with pytest.raises(states.Stale):
            await w.pipeline.after_draft(push)
        assert [c[0] for c in w.api.calls] == ["mass_preview", "draft_get", "upload_news"]
        assert (await w.push(push.id)).news_media_id is None
