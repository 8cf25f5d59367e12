"""What every console request goes through: the client's address (X-Forwarded-For believed only
from `[console] trusted_proxies`), the encrypted session cookie (HttpOnly, SameSite=Lax, Secure over
HTTPS), the session's account check (idle timeout, per-account session version, disabled, the
page's least role), the CSRF token of every non-GET request, and the security headers."""

from __future__ import annotations

import base64
import hmac
import ipaddress
import os
import secrets
from pathlib import Path

from aiohttp import web
from aiohttp_session import Session, get_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from console import texts
from console.web import ADDRESS, EDITOR, Handler, page_of, render, services
from core.config import Settings
from store import editors

COOKIE = "console_session"
CSRF_FIELD = "_csrf"
# An absolute limit besides the idle one: a session is at most this old.
MAX_SESSION_SECONDS = 12 * 3600
# No inline script anywhere (the pages have none); styles only from the stylesheet. The article
# preview page widens style-src for the article's own inline styles (console/pages/preview.py).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def secret_key(settings: Settings) -> bytes:
    """The cookie key from `[console] secret_file`, created (32 random bytes, mode 0600) when absent.
    Read once at start-up."""
    path = Path(settings.path(settings.console.secret_file))
    try:
        raw = path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = base64.urlsafe_b64encode(os.urandom(32))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile: use theirs
            return base64.urlsafe_b64decode(path.read_bytes().strip())
        with os.fdopen(fd, "wb") as f:
            f.write(raw + b"\n")
    return base64.urlsafe_b64decode(raw)


def _trusted(settings: Settings, remote: str | None) -> bool:
    if not remote or not settings.console.trusted_proxies:
        return False
    try:
        ip = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(p, strict=False) for p in settings.console.trusted_proxies)


def client_address(request: web.Request, settings: Settings) -> str:
    """The peer's address, or, when the peer is a trusted proxy, the last address in X-Forwarded-For
    that is not itself a trusted proxy (what the nearest proxy saw)."""
    remote = request.remote or ""
    if not _trusted(settings, remote):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(settings, hop):
            return hop[:64]
    return remote


def is_https(request: web.Request, settings: Settings) -> bool:
    if request.secure:
        return True
    return _trusted(settings, request.remote) and request.headers.get("X-Forwarded-Proto", "").lower() == "https"


class CookieStorage(EncryptedCookieStorage):
    """The encrypted cookie, marked Secure when the request came over HTTPS (directly or through a
    trusted proxy), so one deployment serves plain HTTP on 127.0.0.1 and HTTPS behind nginx."""

    def __init__(self, settings: Settings, key: bytes) -> None:
        super().__init__(key, cookie_name=COOKIE, httponly=True, samesite="Lax", path=settings.console.path,
                         max_age=None)
        self.settings = settings

    async def save_session(self, request: web.Request, response: web.StreamResponse, session: Session) -> None:
        # save_cookie runs without a pause after this line: no other request sees the flag.
        self._cookie_params["secure"] = is_https(request, self.settings)
        await super().save_session(request, response, session)


def csrf_token(session: Session) -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


async def _error(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return await render(request, "error.html", status=status, title=title, message=message)


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = await _error(request, 404, texts.NOT_FOUND, texts.NOT_FOUND)
    except web.HTTPException as e:
        _secure(e)
        raise
    return _secure(response)


def _secure(response: web.StreamResponse) -> web.StreamResponse:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.content_type == "text/html" or response.status in (301, 302, 303, 307):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _to_login(request: web.Request, session: Session, message: str) -> web.HTTPSeeOther:
    session.clear()
    session["flash"] = [["warn", message]]
    target = request.app.router["login"].url_for()
    if request.method == "GET":
        target = target.with_query(next=request.path_qs)
    return web.HTTPSeeOther(str(target))


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The page's least role, checked on every request before the handler (and before the form is
    read): no session → the login page; an ended or idle session → the login page with the reason;
    too low a role → 403. Then the CSRF token of every non-GET request → 403 when wrong."""
    svc = services(request)
    settings = svc.settings
    request[ADDRESS] = client_address(request, settings)
    declared = page_of(request)
    if declared is None:  # the stylesheet, or no such route (404)
        return await handler(request)
    session = await get_session(request)
    if declared.role is not None:
        uid = session.get("uid")
        if uid is None:
            raise await _to_login(request, session, texts.LOGIN_NEEDED)
        now = svc.clock.time()
        idle = settings.console.idle_minutes * 60
        if now - session.get("seen", 0) > idle or now - session.get("since", 0) > MAX_SESSION_SECONDS:
            raise await _to_login(request, session, texts.SESSION_IDLE.format(minutes=settings.console.idle_minutes))
        account = await editors.by_id(svc.db, uid)
        if account is None or account.disabled or account.session_version != session.get("ver"):
            raise await _to_login(request, session, texts.SESSION_ENDED)
        session["seen"] = now
        request[EDITOR] = account
        if not editors.at_least(account.role, declared.role):
            return await _error(request, 403, texts.FORBIDDEN_TITLE,
                                texts.FORBIDDEN.format(role=texts.ROLE.get(account.role, account.role)))
    if request.method not in SAFE_METHODS:
        expected = session.get("csrf")
        given = request.headers.get("X-CSRF-Token")
        if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            given = (await request.post()).get(CSRF_FIELD)
        if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
            return await _error(request, 403, texts.CSRF_TITLE, texts.CSRF)
    return await handler(request)
