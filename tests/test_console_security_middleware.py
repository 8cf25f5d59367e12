"""console/security.py's middlewares on their own, fast enough for mutation testing: the cookie's
flags, the security headers, and the auth middleware's every check (no session, idle and too old
sessions at their exact limits, an ended session, too low a role, the CSRF token by header and by
form) against a small app with the real middlewares, stand-in pages and stand-in accounts (no
database). The key file and the client address: tests/test_console_security_units.py."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp_session import get_session, session_middleware

from console.security import (
    CookieStorage,
    auth_middleware,
    headers_middleware,
)
from console.web import ADDRESS, CONTEXT, EDITOR, SERVICES, Page
from core.clock import FakeClock
from store import editors

# What the pages must carry, written out here so that a weakened policy in the module is noticed.
EXPECTED_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data: https: http:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
TWELVE_HOURS = 12 * 3600



# --- the middlewares, against stand-in pages -----------------------------------------------------------


def declare(fn, role: str | None, method: str = "GET"):
    # Like console.web.page, without adding to the console's own route table; a handler of its own
    # per route, so one function serves routes of different roles.
    async def handler(request: web.Request) -> web.StreamResponse:
        return await fn(request)

    handler.__console_page__ = Page(method, "", None, role, handler)
    return handler


async def session_page(request: web.Request) -> web.Response:
    return web.json_response(dict(await get_session(request)))


async def seed_page(request: web.Request) -> web.Response:
    session = await get_session(request)
    session.update(json.loads(request.query["data"]))
    return web.json_response({"address": request[ADDRESS]})


async def member_page(request: web.Request) -> web.Response:
    return web.json_response({"editor": request[EDITOR].name, "address": request[ADDRESS]})


async def open_page(request: web.Request) -> web.Response:
    return web.json_response({"editor": request.get(EDITOR), "address": request[ADDRESS]})


async def plain_page(request: web.Request) -> web.Response:
    return web.json_response({"editor": request.get(EDITOR), "address": request[ADDRESS]})


async def html_page(request: web.Request) -> web.Response:
    return web.Response(text="<p>页面</p>", content_type="text/html")


async def own_headers_page(request: web.Request) -> web.Response:
    return web.Response(text="<p>预览</p>", content_type="text/html",
                        headers={"Content-Security-Policy": "style-src 'unsafe-inline'", "Cache-Control": "private"})


def redirecting(status: int):
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": "/console/x"})
    return handler


async def raising_page(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/console/elsewhere")


async def forbidden_page(request: web.Request) -> web.Response:
    raise web.HTTPForbidden(text="no")


def console_app(settings, clock, accounts: dict) -> web.Application:
    app = web.Application(middlewares=[
        session_middleware(CookieStorage(settings, os.urandom(32))), headers_middleware, auth_middleware])
    app[SERVICES] = SimpleNamespace(settings=settings, clock=clock, db=accounts)
    app[CONTEXT] = lambda request: _no_context()
    aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({"error.html": "{{ title }}|{{ message }}"}),
                         undefined=jinja2.StrictUndefined)
    r = app.router
    r.add_get("/console/login", declare(session_page, None), name="login")
    r.add_get("/console/seed", declare(seed_page, None))
    r.add_get("/console/", declare(member_page, "editor"))
    r.add_post("/console/", declare(member_page, "editor", "POST"))
    r.add_get("/console/admin", declare(member_page, "admin"))
    r.add_post("/console/open", declare(open_page, None, "POST"))
    r.add_put("/console/open", declare(open_page, None, "PUT"))
    r.add_route("HEAD", "/console/open", declare(open_page, None, "HEAD"))
    r.add_route("OPTIONS", "/console/open", declare(open_page, None, "OPTIONS"))
    r.add_get("/console/html", declare(html_page, None))
    r.add_get("/console/own", declare(own_headers_page, None))
    r.add_get("/console/raise", declare(raising_page, None))
    r.add_get("/console/forbidden", declare(forbidden_page, None))
    for status in (301, 302, 303, 307, 308):
        r.add_get(f"/console/r{status}", declare(redirecting(status), None))
    r.add_post("/console/style.css", plain_page)  # no page: like the stylesheet, not checked
    return app


async def _no_context() -> dict:
    return {}


class Console:
    def __init__(self, client: TestClient, clock: FakeClock, accounts: dict) -> None:
        self.client, self.clock, self.accounts = client, clock, accounts

    async def seed(self, **data) -> None:
        resp = await self.client.get("/console/seed", params={"data": json.dumps(data)})
        assert resp.status == 200

    async def session(self) -> dict:
        return await (await self.client.get("/console/login")).json()

    async def sign_in(self, uid: int = 1, **extra) -> None:
        now = self.clock.time()
        await self.seed(uid=uid, seen=now, since=now, ver=accounts_version(self.accounts, uid), csrf="tok-1", **extra)


def accounts_version(accounts: dict, uid: int) -> int:
    return accounts[uid].session_version if uid in accounts else 0


@pytest.fixture
async def make_console(make_settings, monkeypatch):
    clients = []

    async def make(**console) -> Console:
        settings = make_settings(console={"idle_minutes": 30, **console})
        clock = FakeClock()
        accounts = {
            1: SimpleNamespace(id=1, name="ed", role="editor", disabled=False, session_version=3),
            2: SimpleNamespace(id=2, name="ad", role="admin", disabled=False, session_version=1),
            3: SimpleNamespace(id=3, name="gh", role="ghost", disabled=False, session_version=1),
        }

        async def by_id(db, uid):
            assert db is accounts  # the services' database, not another
            return accounts.get(uid)

        monkeypatch.setattr(editors, "by_id", by_id)
        client = TestClient(TestServer(console_app(settings, clock, accounts)))
        await client.start_server()
        clients.append(client)
        return Console(client, clock, accounts)

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def con(make_console) -> Console:
    return await make_console()


def assert_secured(resp) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert resp.headers[name] == value, name


async def test_the_session_cookie_flags(make_console):
    con = await make_console(trusted_proxies=["127.0.0.0/8"])
    resp = await con.client.get("/console/seed", params={"data": json.dumps({"x": 0})},
                                headers={"X-Forwarded-Proto": "https"})
    cookies = [resp.headers["Set-Cookie"]]
    # Over plain HTTP again: the flag is the request's, not left over from the last one.
    resp = await con.client.get("/console/seed", params={"data": json.dumps({"x": 1})})
    cookies.append(resp.headers["Set-Cookie"])
    for cookie in cookies:
        assert cookie.startswith("console_session=")
        parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
        assert {"httponly", "samesite", "path"} <= parts and not parts & {"max-age", "expires"}
        assert "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" in cookies[0] and "Secure" not in cookies[1]


async def test_headers_on_a_page_and_on_a_404(con):
    resp = await con.client.get("/console/html")
    assert_secured(resp)
    assert resp.headers["Cache-Control"] == "no-store"
    resp = await con.client.get("/console/no-such-page")
    assert resp.status == 404 and await resp.text() == "找不到您要的页面。|找不到您要的页面。"
    assert_secured(resp)


async def test_a_pages_own_headers_are_kept(con):
    resp = await con.client.get("/console/own")
    assert resp.headers["Content-Security-Policy"] == "style-src 'unsafe-inline'"
    assert resp.headers["Cache-Control"] == "private"
    assert resp.headers["X-Frame-Options"] == "DENY"


async def test_redirects_are_not_cached_and_other_non_html_may_be(con):
    for status in (301, 302, 303, 307):
        resp = await con.client.get(f"/console/r{status}", allow_redirects=False)
        assert resp.status == status and resp.headers["Cache-Control"] == "no-store", status
        assert_secured(resp)
    resp = await con.client.get("/console/r308", allow_redirects=False)
    assert resp.status == 308 and "Cache-Control" not in resp.headers
    resp = await con.client.post("/console/style.css")
    assert resp.status == 200 and "Cache-Control" not in resp.headers
    assert_secured(resp)


async def test_a_raised_response_gets_the_headers_too(con):
    resp = await con.client.get("/console/raise", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/elsewhere"
    assert resp.headers["Cache-Control"] == "no-store"
    assert_secured(resp)
    resp = await con.client.get("/console/forbidden")
    assert resp.status == 403 and await resp.text() == "no"
    assert_secured(resp)


async def test_the_client_address_is_set_on_every_request(make_console):
    con = await make_console(trusted_proxies=["127.0.0.0/8"])
    resp = await con.client.get("/console/seed", params={"data": "{}"}, headers={"X-Forwarded-For": "203.0.113.5"})
    assert (await resp.json())["address"] == "203.0.113.5"
    resp = await con.client.post("/console/style.css", headers={"X-Forwarded-For": "203.0.113.6"})
    assert (await resp.json())["address"] == "203.0.113.6"


async def test_a_page_without_declaration_is_not_checked(con):
    resp = await con.client.post("/console/style.css", data={"a": "b"})
    assert resp.status == 200 and (await resp.json())["editor"] is None


async def test_no_session_goes_to_the_login_page_with_where_it_was(con):
    resp = await con.client.get("/console/?a=1&b=2", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/console/login?next=/console/?a%3D1%26b%3D2"
    assert await con.session() == {"flash": [["warn", "请先登录。"]]}


async def test_a_post_without_a_session_goes_to_the_login_page_without_next(con):
    resp = await con.client.post("/console/", data={"_csrf": "tok-1"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/login"


async def test_a_signed_in_editor_reaches_the_page_and_counts_as_seen(con):
    await con.sign_in()
    con.clock.advance(60)
    resp = await con.client.get("/console/")
    assert resp.status == 200 and (await resp.json())["editor"] == "ed"
    session = await con.session()
    assert session["seen"] == con.clock.time() and session["since"] == con.clock.time() - 60


async def test_idle_up_to_the_limit_and_not_a_second_more(con):
    await con.sign_in()
    con.clock.advance(30 * 60)
    assert (await con.client.get("/console/", allow_redirects=False)).status == 200
    con.clock.advance(30 * 60 + 1)
    resp = await con.client.get("/console/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/login?next=/console/"
    # Everything else of the session is gone with it.
    assert await con.session() == {"flash": [["warn", "您已超过 30 分钟没有操作，为安全起见请重新登录。"]]}


async def test_a_session_lives_twelve_hours_however_busy(make_console):
    con = await make_console(idle_minutes=24 * 60)
    now = con.clock.time()
    await con.seed(uid=1, seen=now, since=now - TWELVE_HOURS, ver=3)
    assert (await con.client.get("/console/", allow_redirects=False)).status == 200
    await con.seed(since=now - TWELVE_HOURS - 1)
    resp = await con.client.get("/console/", allow_redirects=False)
    assert resp.status == 303
    assert (await con.session())["flash"] == [["warn", "您已超过 1440 分钟没有操作，为安全起见请重新登录。"]]


async def test_a_session_without_its_times_is_ended(con):
    now = con.clock.time()
    await con.seed(uid=1, since=now, ver=3)
    assert (await con.client.get("/console/", allow_redirects=False)).status == 303
    await con.seed(uid=1, seen=now, ver=3)
    assert (await con.client.get("/console/", allow_redirects=False)).status == 303


@pytest.mark.parametrize("change", ["gone", "disabled", "version"])
async def test_an_ended_session(con, change):
    await con.sign_in()
    if change == "gone":
        del con.accounts[1]
    elif change == "disabled":
        con.accounts[1].disabled = True
    else:
        con.accounts[1].session_version = 4
    resp = await con.client.get("/console/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/console/login?next=/console/"
    assert await con.session() == {"flash": [["warn", "您的登录已失效（密码已更改或账号已停用），请重新登录。"]]}


async def test_too_low_a_role_is_forbidden_with_the_role_named(con):
    await con.sign_in()
    resp = await con.client.get("/console/admin")
    assert resp.status == 403 and await resp.text() == "没有权限|您的账号（编辑）不能访问此页面或执行此操作。"
    assert_secured(resp)
    await con.sign_in(uid=3)
    resp = await con.client.get("/console/")
    assert resp.status == 403 and await resp.text() == "没有权限|您的账号（ghost）不能访问此页面或执行此操作。"
    await con.sign_in(uid=2)
    assert (await con.client.get("/console/admin")).status == 200


async def test_the_csrf_token_by_form_or_by_header(con):
    await con.sign_in()
    assert (await con.client.post("/console/", data={"_csrf": "tok-1"})).status == 200
    multipart = FormData()
    multipart.add_field("_csrf", "tok-1")
    multipart.add_field("f", b"bytes", filename="a.bin")
    assert (await con.client.post("/console/", data=multipart)).status == 200
    assert (await con.client.post("/console/", headers={"X-CSRF-Token": "tok-1"})).status == 200
    assert (await con.client.put("/console/open", headers={"X-CSRF-Token": "tok-1"})).status == 200


async def test_a_wrong_or_missing_csrf_token_is_refused(con):
    await con.sign_in()
    refused = "请求已过期|页面已过期或请求来源不明，请返回上一页刷新后再试。"
    file_token = FormData()
    file_token.add_field("_csrf", b"tok-1", filename="tok.txt")
    for kwargs in ({}, {"data": {"_csrf": "tok-2"}}, {"data": {"csrf": "tok-1"}},
                   {"headers": {"X-CSRF-Token": "tok-2"}, "data": {"_csrf": "tok-1"}},  # the header decides
                   {"json": {"_csrf": "tok-1"}},  # only a form is read
                   {"data": file_token}):
        resp = await con.client.post("/console/", **kwargs)
        assert resp.status == 403 and await resp.text() == refused, kwargs
        assert_secured(resp)
    resp = await con.client.put("/console/open", data={"_csrf": "tok-2"})
    assert resp.status == 403


async def test_a_session_without_a_token_accepts_none(con):
    await con.seed(uid=1)
    for headers in ({"X-CSRF-Token": ""}, {}):
        assert (await con.client.post("/console/open", headers=headers, data={"_csrf": ""})).status == 403


async def test_a_public_post_is_checked_too_and_safe_methods_are_not(con):
    assert (await con.client.post("/console/open", data={"_csrf": "x"})).status == 403
    await con.seed(csrf="tok-9")
    assert (await con.client.post("/console/open", data={"_csrf": "tok-9"})).status == 200
    await con.seed(csrf="")
    assert (await con.client.head("/console/open")).status == 200
    assert (await con.client.options("/console/open")).status == 200

