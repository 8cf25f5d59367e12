"""The console's aiohttp application: its middlewares (session, security headers, the account and
CSRF checks), its templates and stylesheet, and every page module's routes from console.web.ROUTES.
Mounted by app.create_app beside the webhook at `[console] path`, or served on its own port."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import get_session, session_middleware
from markupsafe import Markup

from bot.router import Router
from console import texts
from console.security import (
    CSRF_FIELD,
    CookieStorage,
    auth_middleware,
    csrf_token,
    headers_middleware,
    secret_key,
)
from console.web import CONTEXT, EDITOR, ROUTERS, ROUTES, SERVICES
from core.services import Services
from scheduler import planning
from store.editors import at_least

HERE = Path(__file__).resolve().parent
# aiohttp-session (2.12, its latest) keeps the session under plain string keys of the request, which
# aiohttp 3.14 warns about on every process's first request; the keys are its own, not ours to change.
warnings.filterwarnings("ignore", category=web.NotAppKeyWarning, module="aiohttp_session")
# The modules that declare pages (each with @page): add yours here.
PAGE_MODULES = [
    "console.pages.login",
    "console.pages.dashboard",
    "console.pages.pushes",
    "console.pages.compose",
    "console.pages.preview",
    "console.pages.calendar",
    "console.pages.audit",
    "console.pages.accounts",
    "console.pages.articles",
    "console.pages.members",
    "console.pages.keywords",
    "console.pages.menu",
    "console.pages.messages",
    "console.pages.reports",
]
MAX_FORM_BYTES = 16 * 1024 * 1024  # uploads (member tables, images up to WeChat's 10 MB)


def _load_pages() -> list:
    return [importlib.import_module(name) for name in PAGE_MODULES]


async def _context(request: web.Request) -> dict:
    """What every template sees besides its own data."""
    session = await get_session(request)
    account = request.get(EDITOR)
    names = {r.name for r in request.app.router.resources() if r.name}
    nav = [(label, name if name in names else None) for label, name, role in texts.NAV
           if account is not None and at_least(account.role, role)]
    settings = request.config_dict[SERVICES].settings
    token = csrf_token(session)
    return {
        "me": account, "nav": nav, "t": texts, "role_name": texts.ROLE,
        "csrf_token": token,
        "csrf_field": Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">'),
        "tz_note": texts.TZ_NOTE.format(zone=planning.zone_label(settings)),
        "current": request.match_info.route.name,
    }


def console_app(services: Services, routers: Sequence[Router] = ()) -> web.Application:
    """`routers`: the webhook's (app.ROUTERS), for the 自动回复 page's trial runs."""
    modules = _load_pages()
    settings = services.settings
    app = web.Application(client_max_size=MAX_FORM_BYTES, middlewares=[
        session_middleware(CookieStorage(settings, secret_key(settings))),
        headers_middleware,
        auth_middleware,
    ])
    app[SERVICES] = services
    app[CONTEXT] = _context
    app[ROUTERS] = tuple(routers)
    for module in modules:  # a page module's own state and its cleanup (e.g. imports still running)
        if hasattr(module, "setup"):
            module.setup(app)
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.globals["show_time"] = lambda dt, label=False: planning.show(dt, settings, label=label) if dt else "—"
    app.router.add_static("/static", HERE / "static", name="static", append_version=True)
    seen: set[tuple[str, str]] = set()
    for declared in ROUTES:
        if (declared.method, declared.path) in seen:
            continue  # a module imported twice (tests build many apps)
        seen.add((declared.method, declared.path))
        app.router.add_route(declared.method, declared.path, declared.handler, name=declared.name)
    return app
