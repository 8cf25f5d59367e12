"""The page authors' API (see console/__init__.py): declare a page with its least role, render it
with the base template, read a checked form, record an audit entry, redirect with a message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from core.services import Services
from store import audit as audit_store
from store.models.console import Editor

SERVICES: web.AppKey[Services] = web.AppKey("console_services", Services)
# What every template sees besides its own data (console.app builds it).
CONTEXT: web.AppKey[Callable[[web.Request], Awaitable[dict]]] = web.AppKey("console_context")
# Set by the auth middleware on every request: the signed-in account, the client's address
# (through trusted proxies only).
EDITOR: web.RequestKey[Editor] = web.RequestKey("console_editor", Editor)
ADDRESS: web.RequestKey[str] = web.RequestKey("console_address", str)
# The webhook's routers (app.ROUTERS), for trial runs of a text (the 自动回复 page).
ROUTERS: web.AppKey[tuple] = web.AppKey("console_routers", tuple)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Page:
    method: str
    path: str  # under the console's prefix, e.g. "/pushes/{id}"
    name: str | None  # for url('name', ...) in templates and redirect()
    role: str | None  # the least role: editor | approver | admin; None = public (the login page)
    handler: Handler


ROUTES: list[Page] = []


def page(path: str, *, role: str | None, method: str = "GET", name: str | None = None) -> Callable[[Handler], Handler]:
    """Declare a console route. Every route has a least role; the auth middleware enforces it before
    the handler runs (a missing session → the login page; too low a role → 403). Every non-GET route
    is also CSRF-checked before the handler runs."""
    if role not in (None, "editor", "approver", "admin"):
        raise ValueError(f"unknown role {role!r}")

    def deco(fn: Handler) -> Handler:
        declared = Page(method.upper(), path, name, role, fn)
        fn.__console_page__ = declared  # type: ignore[attr-defined]
        ROUTES.append(declared)
        return fn

    return deco


def page_of(request: web.Request) -> Page | None:
    handler = getattr(request.match_info, "handler", None)
    return getattr(handler, "__console_page__", None)


def services(request: web.Request) -> Services:
    return request.config_dict[SERVICES]


def editor(request: web.Request) -> Editor:
    """The signed-in account (on every page with a role)."""
    return request[EDITOR]


def address(request: web.Request) -> str:
    return request.get(ADDRESS, request.remote or "")


def actor(request: web.Request) -> audit_store.Actor:
    return audit_store.Actor(name=editor(request).name, via="console", address=address(request))


async def form(request: web.Request) -> dict[str, str]:
    """The posted fields (already CSRF-checked); a field given several times keeps all its values
    under `getall` of request.post(), here the last one."""
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str) and k != "_csrf"}


async def audit(request: web.Request, action: str, *, target_type: str = "", target_id: object = "",
                summary: str = "", before: dict | None = None, after: dict | None = None) -> None:
    """Record one change by the signed-in editor, from this client address. Secrets are dropped."""
    svc = services(request)
    await audit_store.record(svc.db, svc.clock, actor(request), action, target_type=target_type,
                             target_id=target_id, summary=summary, before=before, after=after)


async def flash(request: web.Request, message: str, kind: str = "ok") -> None:
    """A message shown once on the next page (kind: ok | error | warn)."""
    session = await get_session(request)
    session["flash"] = [*session.get("flash", []), [kind, message]][-5:]


def url(request: web.Request, name: str, query: dict | None = None, **parts: Any) -> str:
    u = request.app.router[name].url_for(**{k: str(v) for k, v in parts.items()})
    return str(u.with_query(query) if query else u)


async def redirect(request: web.Request, name: str, message: str | None = None, kind: str = "ok",
                   query: dict | None = None, **parts: Any) -> web.HTTPSeeOther:
    """`raise await redirect(request, "pushes", "已保存")`: 303 to a named page, with a message."""
    if message:
        await flash(request, message, kind)
    return web.HTTPSeeOther(url(request, name, query, **parts))


async def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """The page from console/templates/<template>, which extends base.html; `context` is its data.
    Autoescaped: mark trusted HTML with Markup() (only the WeChat-safe render of an article is)."""
    session = await get_session(request)
    context = {**await request.config_dict[CONTEXT](request), **context, "flashes": session.pop("flash", [])}
    return aiohttp_jinja2.render_template(template, request, context, status=status)
