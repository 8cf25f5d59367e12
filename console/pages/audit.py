"""操作日志: every change from the console and the CLI, newest first, filtered by who, what and
object, paged by id. Read-only: nothing here edits the log."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from console import texts
from console.web import page, render, services
from scheduler import planning
from store import audit as audit_store


@page("/audit", role="editor", name="audit")
async def audit_log(request: web.Request) -> web.Response:
    svc = services(request)
    q = request.query
    since = until = None
    try:
        if q.get("day"):
            since = planning.parse_local(q["day"] + " 00:00", svc.settings)
            until = since + timedelta(days=1)
        before_id = int(q["before"]) if q.get("before") else None
    except (ValueError, planning.PlanningError):
        raise web.HTTPBadRequest(text=texts.BAD_INPUT.format(reason=q.get("day", ""))) from None
    rows, total = await audit_store.search(
        svc.db, actor=q.get("actor", "").strip(), action=q.get("action", ""), target_type=q.get("target_type", ""),
        target_id=q.get("target_id", "").strip(), since=since, until=until, before_id=before_id)
    more = {**q, "before": str(rows[-1].id)} if len(rows) == audit_store.PAGE else None
    return await render(request, "audit.html", rows=rows, total=total, q=q, actions=texts.ACTIONS, via=texts.VIA,
                        more=more)
