"""会员: search the registry as followers' 查会员 does (or by a bound follower), upload a member
table → its dry run → apply, a unit's page (facts, grade history, bound followers), a binding code
shown once, unbind, retire, export. The same operations as `main.py members …` (store/members/)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from console import words
from console.web import audit, form, page, redirect, render, services
from core.clock import local_date, shown_time
from store.members import binding, texts
from store.members.find import search_units
from store.members.importer import retire
from store.members.registry import export_table, list_units, member_page, table_bytes
from store.members.stats import figures_for_new_registry
from store.members.status import local_today
from store.members.table import HEADERS, ImportFileError
from store.members.uploads import import_staged, stage
from store.models.members import Member

PAGE = 50


def upload_dir(request: web.Request) -> Path:
    """Where uploaded tables wait between their dry run and their import (beside the media)."""
    settings = services(request).settings
    return settings.path(settings.content.media_dir).parent / "member-uploads"


def _int(text: str | None, default: int = 0) -> int:
    try:
        return max(0, int(text or default))
    except ValueError:
        return default


@page("/members", role="editor", name="members")
async def members(request: web.Request) -> web.Response:
    svc = services(request)
    q = request.query.get("q", "")
    offset = _int(request.query.get("offset"))
    found = await search_units(svc.db, svc.members, q, offset=offset, limit=PAGE)
    more = offset + PAGE if found.how == "list" and offset + PAGE < found.total else None
    return await render(request, "members.html", q=q, found=found, how=words.SEARCH_HOW.get(found.how, ""),
                        offset=offset, more=more, headers=[h[0] for h in HEADERS.values()])


async def _run_import(request: web.Request, token: str, dry_run: bool):
    svc = services(request)
    now = svc.clock.now()
    return await import_staged(svc.db, upload_dir(request), token, now, local_today(now, svc.settings.scheduler.timezone),
                               svc.settings.members.roles, dry_run=dry_run)


@page("/members/upload", role="editor", method="POST", name="members_upload")
async def upload(request: web.Request) -> web.StreamResponse:
    """Stage the file and show its dry run; nothing is written until the editor applies it."""
    data = await request.post()
    file = data.get("file")
    if not isinstance(file, web.FileField) or not file.filename:
        raise await redirect(request, "members", words.UPLOAD_NOTHING, "error")
    content = await asyncio.to_thread(file.file.read)
    try:
        staged = await asyncio.to_thread(stage, upload_dir(request), content, file.filename)
        report = await _run_import(request, staged.token, dry_run=True)
    except (ImportFileError, OSError) as e:
        raise await redirect(request, "members", texts.file_problem(e), "error") from None
    return await render(request, "members_import.html", report=report, token=staged.token,
                        field_names=texts.FIELD_NAMES, shown=texts.shown_value)


@page("/members/apply", role="editor", method="POST", name="members_apply")
async def apply(request: web.Request) -> web.StreamResponse:
    token = (await form(request)).get("token", "")
    try:
        report = await _run_import(request, token, dry_run=False)
    except (ImportFileError, OSError) as e:
        raise await redirect(request, "members", texts.file_problem(e), "error") from None
    svc = services(request)
    zone = svc.settings.scheduler.timezone
    await figures_for_new_registry(svc.db, local_date(svc.clock.now(), zone), timezone=zone,
                                   roles=svc.settings.members.roles, cache=svc.figures)
    await audit(request, "member_import", target_type="members", target_id=report.path,
                summary=words.IMPORTED.format(added=len(report.added), updated=len(report.updated),
                                              unchanged=report.unchanged, rejected=len(report.rejected)),
                after={"added": [c.credit_code for c in report.added][:200],
                       "updated": [c.credit_code for c in report.updated][:200],
                       "rejected_lines": [r.line for r in report.rejected][:200]})
    return await render(request, "members_import.html", report=report, token=None,
                        field_names=texts.FIELD_NAMES, shown=texts.shown_value)


@page("/members/export", role="editor", name="members_export")
async def export(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    units = await list_units(svc.db, include_retired=False)
    data = await asyncio.to_thread(table_bytes, export_table(units), True)
    day = local_date(svc.clock.now(), svc.settings.scheduler.timezone).isoformat()
    return web.Response(body=data, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f"attachment; filename=\"members-{day}.xlsx\"",
    })


async def _member(request: web.Request):
    found = await member_page(services(request).db, _int(request.match_info["id"], -1))
    if found is None:
        raise web.HTTPNotFound(text=words.MEMBER_GONE)
    return found


async def _show(request: web.Request, found, code: str | None = None, until: str | None = None,
                issued: str = "") -> web.Response:
    return await render(request, "member.html", p=found, m=found.member, field_names=texts.FIELD_NAMES,
                        shown=texts.shown_value, cell=_cell, kinds=texts.BINDING_KINDS,
                        source_name=texts.history_source, code=code, until=until, issued=issued)


def _cell(field: str, value: object) -> str:
    return texts.shown_value(field, None if value is None else str(value)) if value not in (None, "") else "—"


@page("/members/{id}", role="editor", name="member")
async def member(request: web.Request) -> web.Response:
    return await _show(request, await _member(request))


@page("/members/{id}/code", role="editor", method="POST", name="member_code")
async def bind_code(request: web.Request) -> web.Response:
    """The code is shown on this answer only (only its hash is kept); the audit names no code."""
    svc = services(request)
    found = await _member(request)
    m: Member = found.member
    code, _, expires = await binding.issue_code(svc.db, m.credit_code, svc.clock.now(),
                                                svc.settings.members.bind_code_ttl_minutes)
    await audit(request, "member_bind_code", target_type="member", target_id=m.id, summary=m.name,
                after={"expires_at": expires.isoformat()})
    return await _show(request, found, code=code, until=shown_time(expires, svc.settings.scheduler.timezone),
                       issued=words.CODE_ISSUED.format(name=m.name))


@page("/members/{id}/unbind", role="editor", method="POST", name="member_unbind")
async def unbind(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    m = (await _member(request)).member
    openid = (await form(request)).get("openid", "").strip()
    names = await binding.unbind(svc.db, openid, svc.clock.now(), m.id, kind="revoke")
    if not names:
        raise await redirect(request, "member", words.NOT_BOUND.format(openid=openid, name=m.name), "warn", id=m.id)
    await audit(request, "member_unbind", target_type="member", target_id=m.id, summary=m.name,
                before={"openid": openid})
    raise await redirect(request, "member", words.UNBOUND.format(openid=openid, name=m.name), id=m.id)


@page("/members/{id}/retire", role="editor", method="POST", name="member_retire")
async def retire_unit(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    m = (await _member(request)).member
    zone = svc.settings.scheduler.timezone
    if m.retired:
        day = local_date(m.retired_at, zone).isoformat() if m.retired_at else ""
        raise await redirect(request, "member", words.ALREADY_RETIRED.format(name=m.name, date=day), "warn", id=m.id)
    await retire(svc.db, m.credit_code, svc.clock.now())
    await audit(request, "member_retire", target_type="member", target_id=m.id, summary=m.name,
                before={"retired": False}, after={"retired": True})
    raise await redirect(request, "member", words.RETIRED.format(name=m.name), id=m.id)
