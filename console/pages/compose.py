"""The composer (新建推送 / 修改推送): search and pick up to 8 articles, order them, choose 发布 or 群发
explicitly, a planned time or the next free slot, with the warnings before anything is sent. No
script: the selection lives in the address (`ids=3,1,2`), each add, move and remove is a link."""

from __future__ import annotations

from aiohttp import web

from console import pushinfo
from console.pages.pushes import KIND_MEANS
from console.web import audit, editor, form, page, redirect, render, services
from scheduler import editing, planning
from wechat.limits import DRAFT_ARTICLES


def _ids(text: str) -> list[int]:
    out: list[int] = []
    for part in text.replace("，", ",").split(","):
        part = part.strip()
        if part.isdigit() and int(part) not in out:
            out.append(int(part))
    return out


def _moves(ids: list[int]) -> dict[int, dict[str, str]]:
    """For each chosen article, the selection after moving it up, down, or removing it."""
    out = {}
    for i, aid in enumerate(ids):
        up, down = ids[:], ids[:]
        if i > 0:
            up[i - 1], up[i] = up[i], up[i - 1]
        if i < len(ids) - 1:
            down[i + 1], down[i] = down[i], down[i + 1]
        out[aid] = {k: ",".join(map(str, v)) for k, v in
                    (("up", up), ("down", down), ("remove", [x for x in ids if x != aid]))}
    return out


async def _page(request: web.Request, push=None) -> web.Response:
    svc = services(request)
    q = request.query
    ids = _ids(q["ids"]) if "ids" in q else ([a.article_id for a in push.articles] if push else [])
    kind = q.get("kind") or (push.kind if push else "")
    found = await pushinfo.search_articles(svc, q.get("q", ""))
    try:
        async with svc.db() as s:
            slot = await planning.next_free_slot(s, svc.settings, kind=kind or "publish", after=svc.clock.now(),
                                                 exclude_id=push.id if push else None)
        slot_text = planning.show(slot, svc.settings)
    except planning.PlanningError as e:
        slot, slot_text = None, str(e)
    at = push.planned_at if push else slot
    titles = await pushinfo.titles_of(svc, ids)
    quota = await pushinfo.broadcast_quota(svc, at or svc.clock.now())
    return await render(
        request, "compose.html", push=push, ids=ids, ids_text=",".join(map(str, ids)), kind=kind,
        chosen=[(aid, titles.get(aid, "（不存在）")) for aid in ids], moves=_moves(ids), found=found,
        q=q.get("q", ""), max_articles=DRAFT_ARTICLES, kind_means=KIND_MEANS, slot_text=slot_text,
        at_value=at.astimezone(planning.zone(svc.settings)).strftime("%Y-%m-%dT%H:%M") if push and push.pinned else "",
        pinned=bool(push and push.pinned), quota=quota,
        warnings=await pushinfo.warnings(svc, ids, kind, at, exclude_id=push.id if push else None) if ids else [],
        action=request.app.router["push_edit_post" if push else "push_create"].url_for(
            **({"id": str(push.id)} if push else {})),
    )


def _spec(f: dict[str, str], svc, base=None) -> editing.PushSpec:
    kind = f.get("kind", "")
    if kind not in ("publish", "broadcast"):
        raise editing.EditError("请选择“发布”或“群发”：两者对关注者的影响不同，见说明")
    at = None
    if f.get("when") == "at":
        if not f.get("at"):
            raise editing.EditError("请填写指定的发送时间，或选择“下一个空闲时段”")
        at = planning.parse_local(f["at"], svc.settings)
    return editing.PushSpec(
        article_ids=editing.parse_ids(f.get("ids", "")), kind=kind, at=at,
        tag=(f.get("tag") or "").strip() or None if kind == "broadcast" else None,
        preview=f.get("preview") == "1", source_url=base.source_url if base else None,
        open_comment=f.get("open_comment") == "1", fans_only_comment=f.get("fans_only_comment") == "1",
        send_ignore_reprint=bool(base and base.send_ignore_reprint))


@page("/pushes/new", role="editor", name="push_new")
async def new(request: web.Request) -> web.Response:
    return await _page(request)


@page("/pushes/new", role="editor", method="POST", name="push_create")
async def create(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    f = await form(request)
    try:
        push = await editing.create(svc, _spec(f, svc), by=editor(request).name)
    except (editing.EditError, planning.PlanningError) as e:
        raise await redirect(request, "push_new", str(e), "error",
                             query={"ids": f.get("ids", ""), "kind": f.get("kind", "")}) from None
    await audit(request, "push_create", target_type="push", target_id=push.id,
                after={"kind": push.kind, "articles": [a.article_id for a in push.articles],
                       "planned_at": planning.show(push.planned_at, svc.settings)})
    raise await redirect(request, "push", f"已创建推送 #{push.id}，计划 {planning.show(push.planned_at, svc.settings)}。"
                         "草稿生成后可发送预览，然后提交审批。", id=push.id)


def _push_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None


@page("/pushes/{id}/edit", role="editor", name="push_edit")
async def edit_form(request: web.Request) -> web.Response:
    try:
        push = await editing.get(services(request), _push_id(request))
    except editing.EditError:
        raise web.HTTPNotFound() from None
    return await _page(request, push)


@page("/pushes/{id}/edit", role="editor", method="POST", name="push_edit_post")
async def edit(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    push_id = _push_id(request)
    f = await form(request)
    try:
        base = await editing.get(svc, push_id)
        before = {"kind": base.kind, "articles": [a.article_id for a in base.articles],
                  "planned_at": planning.show(base.planned_at, svc.settings), "review": base.review}
        push = await editing.edit(svc, push_id, _spec(f, svc, base), by=editor(request).name)
    except (editing.EditError, planning.PlanningError) as e:
        raise await redirect(request, "push_edit", str(e), "error", id=push_id,
                             query={"ids": f.get("ids", ""), "kind": f.get("kind", "")}) from None
    after = {"kind": push.kind, "articles": [a.article_id for a in push.articles],
             "planned_at": planning.show(push.planned_at, svc.settings), "review": push.review}
    await audit(request, "push_edit", target_type="push", target_id=push.id, before=before, after=after)
    note = "；原有的批准已撤销，需要重新提交审批" if before["review"] == "approved" and push.review == "draft" else ""
    raise await redirect(request, "push", f"已保存推送 #{push.id}{note}。", "warn" if note else "ok", id=push.id)
