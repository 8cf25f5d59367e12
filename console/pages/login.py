"""登录 and 退出: the password check, and the failures counted per account and per client address in
the shared state (so every process of a deployment agrees), with a clear lock-out message."""

from __future__ import annotations

from aiohttp import web
from aiohttp_session import get_session, new_session

from console import texts
from console.security import csrf_token
from console.web import EDITOR, address, audit, editor, page, render, services
from store import audit as audit_store
from store import editors


def _keys(name: str, addr: str) -> tuple[str, str]:
    return f"console:login:name:{name.lower()[:64]}", f"console:login:addr:{addr}"


def _safe_next(value: str, prefix: str) -> str:
    # Only a path inside the console: never another site (an open redirect).
    if value.startswith(prefix + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return prefix + "/"


@page("/login", role=None, name="login")
async def login_form(request: web.Request) -> web.Response:
    session = await get_session(request)
    csrf_token(session)
    return await render(request, "login.html", error="", name="", next=request.query.get("next", ""))


@page("/login", role=None, method="POST", name="login_post")
async def login(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    conf = svc.settings.console
    data = await request.post()
    name = str(data.get("name", "")).strip()
    password = str(data.get("password", ""))
    nxt = str(data.get("next", ""))
    addr = address(request)
    keys = _keys(name, addr)
    counts = [int(await svc.shared.get(k) or 0) for k in keys]
    if max(counts) >= conf.max_failures:
        await audit_store.record(svc.db, svc.clock, audit_store.Actor(name or "?", "console", addr), "login_failed",
                                 target_type="editor", target_id=name, summary="锁定中")
        error = texts.LOGIN_LOCKED.format(minutes=conf.lockout_minutes)
        return await render(request, "login.html", status=429, error=error, name=name, next=nxt)
    account = await editors.authenticate(svc.db, svc.clock, name, password) if name and password else None
    if account is None:
        counts = [await svc.shared.incr(k, ttl=conf.lockout_minutes * 60) for k in keys]
        await audit_store.record(svc.db, svc.clock, audit_store.Actor(name or "?", "console", addr), "login_failed",
                                 target_type="editor", target_id=name)
        left = conf.max_failures - max(counts)
        error = texts.LOGIN_WRONG + (texts.LOGIN_LEFT.format(n=left) if left > 0 else
                                     texts.LOGIN_LOCKED.format(minutes=conf.lockout_minutes))
        return await render(request, "login.html", status=401 if left > 0 else 429, error=error, name=name, next=nxt)
    await svc.shared.delete(keys[0])
    # A new session (a new cookie, a new CSRF token): nothing from before the login carries over.
    session = await new_session(request)
    now = svc.clock.time()
    session.update(uid=account.id, ver=account.session_version, since=now, seen=now)
    csrf_token(session)
    request[EDITOR] = account
    await audit(request, "login", target_type="editor", target_id=account.name)
    raise web.HTTPSeeOther(_safe_next(nxt, svc.settings.console.path))


@page("/logout", role="editor", method="POST", name="logout")
async def logout(request: web.Request) -> web.StreamResponse:
    await audit(request, "logout", target_type="editor", target_id=editor(request).name)
    session = await get_session(request)
    session.clear()
    session["flash"] = [["ok", texts.LOGGED_OUT]]
    raise web.HTTPSeeOther(str(request.app.router["login"].url_for()))
