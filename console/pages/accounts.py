"""账号 (admins only): the accounts, adding one, a new password, disabling and enabling. The same
operations as `main.py editors …` (store/editors.py)."""

from __future__ import annotations

from aiohttp import web

from console import texts
from console.web import audit, editor, form, page, redirect, render, services
from store import editors


def _reason(e: editors.AccountError) -> str:
    return texts.ACCOUNT_ERRORS.get(e.reason, e.reason).format(**e.fmt)


@page("/accounts", role="admin", name="accounts")
async def accounts(request: web.Request) -> web.Response:
    rows = await editors.all_editors(services(request).db)
    return await render(request, "accounts.html", rows=rows, roles=editors.ROLES)


@page("/accounts", role="admin", method="POST", name="accounts_add")
async def add(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    f = await form(request)
    try:
        row = await editors.add(svc.db, svc.clock, f.get("name", "").strip(), f.get("role", ""),
                                f.get("password", ""), display_name=f.get("display_name", "").strip(),
                                openid=f.get("openid", "").strip() or None)
    except editors.AccountError as e:
        raise await redirect(request, "accounts", _reason(e), "error") from None
    await audit(request, "editor_add", target_type="editor", target_id=row.name,
                after={"role": row.role, "openid": row.openid})
    raise await redirect(request, "accounts", texts.ACCOUNT_ADDED.format(name=row.name, role=texts.ROLE[row.role]))


@page("/accounts/{name}", role="admin", method="POST", name="account_change")
async def change(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    name = request.match_info["name"]
    f = await form(request)
    what = f.get("action", "")
    try:
        if what == "disable":
            if name == editor(request).name:
                raise await redirect(request, "accounts", texts.ACCOUNT_SELF, "error")
            before, after = await editors.update(svc.db, name, disabled=True)
            action, message = "editor_disable", texts.ACCOUNT_DISABLED
        elif what == "enable":
            before, after = await editors.update(svc.db, name, disabled=False)
            action, message = "editor_enable", texts.ACCOUNT_ENABLED
        elif what == "password":
            before, after = await editors.update(svc.db, name, password=f.get("password", ""))
            action, message = "editor_passwd", texts.ACCOUNT_PASSWORD
        else:
            raise web.HTTPBadRequest(text=texts.BAD_INPUT.format(reason=what))
    except editors.AccountError as e:
        raise await redirect(request, "accounts", _reason(e), "error") from None
    await audit(request, action, target_type="editor", target_id=name, before=before, after=after)
    raise await redirect(request, "accounts", message.format(name=name))
