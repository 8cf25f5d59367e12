"""The console's pushes from plan to published, without a browser, against the local platform: an
editor composes two articles, sees the phone preview, sends a preview, submits; the editor cannot
approve; the approver rejects with a comment, the editor sees it, edits and resubmits; the approver
approves; the push is published and shows 已完成; the audit log names each action's author. Also
the tab mapping, the self-approval rule, an edit after approval clearing it, and the pages that
read (dashboard, calendar)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from console import pushinfo
from scheduler import review
from scheduler.editing import EditError
from store.models.console import AuditEntry
from tests.console_support import add_accounts, client
from tests.scheduler_support import bot_env

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def world(sandbox, make_settings):
    async with bot_env(sandbox, make_settings) as env:
        await add_accounts(env.services)
        yield env


async def test_plan_to_published(world):
    env = world
    base = env.base_url + "/console"
    ids = await env.articles(2)
    alice, bob = client(base), client(base)
    try:
        await alice.login("alice")
        status, html = await alice.get("/pushes/new", params={"ids": f"{ids[0]},{ids[1]}", "kind": "publish"})
        assert status == 200 and "测试推送文章0" in html and "测试推送文章1" in html
        status, url, html = await alice.post("/pushes/new", {"ids": f"{ids[0]},{ids[1]}", "kind": "publish",
                                                            "when": "slot"})
        assert status == 200 and "已创建推送" in html, html[-2000:]
        push_id = int(re.search(r"/pushes/(\d+)$", url).group(1))
        await env.drive(push_id, ("drafted", "previewed"))
        status, html = await alice.get(f"/pushes/{push_id}/phone")
        assert status == 200 and "第 0 篇第 0 段" in html and "/console/media/" in html
        status, url, html = await alice.post(f"/pushes/{push_id}/preview", {"to": "o_editor_0001"})
        assert "已发到 o_editor_0001" in html, html[-3000:]
        status, url, html = await alice.post(f"/pushes/{push_id}/submit", {})
        assert "已提交审批" in html and 'id="push-review">待审批' in html
        # The editor cannot approve: no button, and the route refuses.
        assert 'id="approve"' not in html
        status, url, html = await alice.post(f"/pushes/{push_id}/approve", {})
        assert status == 403
        await bob.login("bob")
        status, url, html = await bob.post(f"/pushes/{push_id}/reject", {"comment": "第二篇标题请改短"})
        assert "已退回" in html
        status, html = await alice.get(f"/pushes/{push_id}")
        assert "审批意见：第二篇标题请改短" in html
        status, url, html = await alice.post(f"/pushes/{push_id}/edit", {"ids": f"{ids[1]},{ids[0]}",
                                                                         "kind": "publish", "when": "slot"})
        assert "已保存推送" in html, html[-2000:]
        status, url, html = await alice.post(f"/pushes/{push_id}/submit", {})
        assert 'id="push-review">待审批' in html
        status, url, html = await bob.post(f"/pushes/{push_id}/approve", {})
        assert "已批准" in html, html[-2000:]
        status, url, html = await bob.post(f"/pushes/{push_id}/send-now", {})
        assert "将立即发送" in html
        done = await env.drive(push_id, ("done",))
        assert done.state == "done"
        status, html = await alice.get(f"/pushes/{push_id}")
        assert 'id="push-status">已完成' in html
        status, html = await alice.get("/pushes", params={"tab": "done"})
        assert f"#{push_id}" in html
        status, html = await bob.get("/audit")
        async with env.services.db() as s:
            rows = (await s.scalars(select(AuditEntry).where(AuditEntry.target_type == "push"))).all()
        assert [(r.actor, r.action) for r in rows] == [
            ("alice", "push_create"), ("alice", "push_preview"), ("alice", "push_submit"), ("bob", "push_reject"),
            ("alice", "push_edit"), ("alice", "push_submit"), ("bob", "push_approve"), ("bob", "push_send_now")]
        assert "提交审批" in html and "退回推送" in html
        for page in ("/", "/calendar", "/calendar?view=week", "/calendar?view=list", "/pushes?tab=failed"):
            status, html = await bob.get(page)
            assert status == 200, page
    finally:
        await alice.http.close()
        await bob.http.close()


async def test_self_approval_and_edit_after_approval(world):
    env = world
    from scheduler import editing

    ids = await env.articles(2)
    push = await editing.create(env.services, editing.PushSpec(article_ids=ids[:1]), by="bob")
    assert pushinfo.tab_of(push) == "draft"
    await review.submit(env.services, push.id, "bob")
    assert pushinfo.tab_of(await editing.get(env.services, push.id)) == "review"
    with pytest.raises(EditError, match="不能由您自己批准"):
        await review.approve(env.services, push.id, "bob")
    approved = await review.approve(env.services, push.id, "root")
    assert approved.review == "approved" and pushinfo.tab_of(approved) == "scheduled"
    edited = await editing.edit(env.services, push.id, editing.PushSpec(article_ids=ids[:2]), by="bob")
    assert edited.review == "draft" and edited.approved_by is None and pushinfo.tab_of(edited) == "draft"
    counts = await pushinfo.counts(env.services)
    assert counts["draft"] == 1 and sum(counts.values()) == 1
