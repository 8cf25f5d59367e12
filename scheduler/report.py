"""What editors are shown about pushes (`push list`, `push show`, and the console later): the status in
words, when it was planned and when it went out (in the scheduler's zone, labelled), who received
the preview, the notices that need an editor, and the timeline."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.config import Settings
from core.services import Services
from scheduler import editing, notify, planning, previews, texts
from store.models.content import Article
from store.models.pushes import Notification, Push, PushEvent, PushPreview

# The scheduler's heartbeat in the shared state (written after every tick, shown by the console).
HEARTBEAT_KEY = "scheduler:last-tick"
EVENT_KIND = {"state": "状态", "wechat": "微信", "editor": "编辑", "note": "核对"}


def status(push: Push, settings: Settings) -> str:
    if push.state in ("drafted", "previewed") and not push.approved_by and not settings.scheduler.auto_approve:
        return texts.WAITING_APPROVAL
    return texts.STATE[push.state]


def _iso(dt, settings: Settings) -> str | None:
    return dt.astimezone(planning.zone(settings)).isoformat() if dt else None


def summary(push: Push, settings: Settings, rows: list[PushPreview]) -> dict:
    """A push for programs (`--json`): times as ISO 8601 in the scheduler's zone."""
    return {
        "id": push.id, "kind": push.kind, "state": push.state, "status": status(push, settings),
        "planned_at": _iso(push.planned_at, settings), "pinned": push.pinned,
        "submitted_at": _iso(push.submitted_at, settings), "finished_at": _iso(push.finished_at, settings),
        "articles": [a.article_id for a in push.articles], "tag": push.tag_name, "preview": push.preview,
        "previews": [{"openid": r.openid, "status": r.status, "error_code": r.error_code, "reason": r.error_reason}
                     for r in previews.latest(rows).values()],
        "approved_by": push.approved_by, "attempt": push.attempt, "media_id": push.media_id,
        "publish_id": push.publish_id, "msg_id": push.msg_id, "article_id": push.article_id,
        "error_code": push.error_code, "error_reason": push.error_reason,
    }


def _line(push: Push, settings: Settings, rows: list[PushPreview]) -> str:
    show = lambda dt: planning.show(dt, settings, label=False)  # noqa: E731 - the heading names the zone
    parts = [f"#{push.id:<4} {texts.KIND[push.kind]} {len(push.articles)} 篇  {status(push, settings)}",
             f"计划 {show(push.planned_at)}{' 📌' if push.pinned else ''}"]
    if push.submitted_at:
        parts.append(f"发出 {show(push.submitted_at)}")
    if rows:
        parts.append(f"预览：{previews.summary(rows)}")
    line = "  ".join(parts)
    return line + (f"\n       ✗ {push.error_reason}" if push.error_reason else "")


async def _previews_of(services: Services, pushes: list[Push]) -> dict[int, list[PushPreview]]:
    current = {p.id: p.revision for p in pushes}
    async with services.db() as s:
        rows = (await s.scalars(select(PushPreview).where(PushPreview.push_id.in_(current))
                                .order_by(PushPreview.id))).all()
    out: dict[int, list[PushPreview]] = {}
    for r in rows:
        if r.revision == current[r.push_id]:
            out.setdefault(r.push_id, []).append(r)
    return out


async def push_list(services: Services, n: int, *, as_json: bool = False) -> str:
    """The newest pushes first (by creation), then what needs an editor and what is not delivered."""
    settings = services.settings
    async with services.db() as s:
        pushes = list((await s.scalars(select(Push).options(selectinload(Push.articles))
                                       .order_by(Push.id.desc()).limit(n))).all())
    shown = await _previews_of(services, pushes)
    attention, waiting = await notify.open_items(services)
    if as_json:
        flagged = {p.id for p, _ in attention}
        return json.dumps([{**summary(p, settings, shown.get(p.id, [])), "needs_attention": p.id in flagged}
                           for p in pushes], ensure_ascii=False, indent=2)
    if not pushes:
        return texts.CLI_NO_PUSHES
    out = [texts.CLI_LIST_HEAD.format(zone=planning.zone_label(settings))]
    out += [_line(p, settings, shown.get(p.id, [])) for p in pushes]
    if attention:
        out.append(texts.CLI_ATTENTION_HEAD.format(cmd=texts.CMD))
        for push, notes in attention:
            reached = [n.openid for n in notes if n.status == "sent"]
            who = texts.CLI_ATTENTION_REACHED.format(who="、".join(reached)) if reached else texts.CLI_ATTENTION_NOBODY
            out.append(f"  #{push.id} {texts.STATE[push.state]}：{_why(push, settings)}（{who}）")
    if waiting:
        out.append(texts.CLI_UNDELIVERED_HEAD)
        out += [_notice_line(note) for note in waiting]
    return "\n".join(out)


def _why(push: Push, settings: Settings) -> str:
    if push.state == "overdue":
        return texts.CLI_OVERDUE_WHY.format(at=planning.show(push.planned_at, settings))
    return push.error_reason or ""


def _notice_line(note: Notification) -> str:
    line = f"  #{note.push_id} → {note.openid}（{texts.NOTICE_STATUS.get(note.status, note.status)}）：{note.text.splitlines()[0]}"
    return line + (f"\n      {note.detail}" if note.detail else "")


async def push_detail(services: Services, push_id: int, *, as_json: bool = False) -> str:
    settings = services.settings
    push = await editing.get(services, push_id)
    async with services.db() as s:
        events = list((await s.scalars(select(PushEvent).where(PushEvent.push_id == push.id)
                                       .order_by(PushEvent.at, PushEvent.id))).all())
        notes = list((await s.scalars(select(Notification).where(Notification.push_id == push.id)
                                      .order_by(Notification.id))).all())
        ids = [a.article_id for a in push.articles]
        titles = {a.id: a.wechat_title or a.title
                  for a in (await s.scalars(select(Article).where(Article.id.in_(ids)))).all()}
    rows = await previews.rows_of(services, push.id)
    current = [r for r in rows if r.revision == push.revision]
    if as_json:
        out = summary(push, settings, current)
        out["timeline"] = [{"at": _iso(e.at, settings), "kind": e.kind, "state": e.state, "detail": e.detail,
                            "data": e.data} for e in events]
        out["notices"] = [{"openid": n.openid, "kind": n.kind, "status": n.status, "detail": n.detail,
                           "acked_by": n.acked_by, "text": n.text} for n in notes]
        out["article_urls"] = [a.url for a in push.articles]
        return json.dumps(out, ensure_ascii=False, indent=2, default=str)
    tag = texts.CLI_SHOW_TAG.format(tag=push.tag_name) if push.tag_name else ""
    out = [texts.CLI_SHOW_HEAD.format(id=push.id, kind=texts.KIND[push.kind], tag=tag, status=status(push, settings)),
           texts.CLI_SHOW_PLANNED.format(at=planning.show(push.planned_at, settings),
                                         pinned=texts.CLI_SHOW_PINNED if push.pinned else "", attempt=push.attempt)]
    if push.submitted_at:
        out.append(texts.CLI_SHOW_SENT.format(at=planning.show(push.submitted_at, settings)))
    if push.finished_at and push.state in ("done", "failed", "cancelled"):
        out.append(texts.CLI_SHOW_FINISHED.format(at=planning.show(push.finished_at, settings)))
    if push.error_reason:
        out.append(texts.CLI_SHOW_REASON.format(reason=push.error_reason))
    out.append(texts.CLI_SHOW_ARTICLES)
    for link in push.articles:
        url = texts.CLI_SHOW_WITHDRAWN if push.state == "withdrawn" else link.url  # its page is gone
        out.append(f"  {link.position + 1}. #{link.article_id} {titles.get(link.article_id, texts.CLI_SHOW_DELETED)}"
                   f"{'  ' + url if link.url else ''}")
    if rows:
        out.append(texts.CLI_SHOW_PREVIEWS)
        for r in rows:
            old = "" if r.revision == push.revision else texts.CLI_SHOW_OLD_DRAFT
            out.append(f"  {planning.show(r.created_at, settings)} {previews.line(r)}{old}")
    out.append(texts.CLI_SHOW_TIMELINE.format(zone=planning.zone_label(settings)))
    for e in events:
        out.append(f"  {planning.show(e.at, settings, label=False)} [{EVENT_KIND.get(e.kind, e.kind)}] {e.detail}")
    if notes:
        out.append(texts.CLI_SHOW_NOTICES)
        for n in notes:
            status_text = texts.NOTICE_STATUS.get(n.status, n.status)
            acked = texts.CLI_SHOW_ACKED.format(by=texts.BY.get(n.acked_by, n.acked_by)) if n.acked_at else ""
            out.append(f"  {n.openid}（{status_text}{acked}）：{n.text.splitlines()[0]}"
                       + (f"\n      {n.detail}" if n.detail and n.status != "sent" else ""))
    return "\n".join(out)
