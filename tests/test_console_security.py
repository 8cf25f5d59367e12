"""The console's guards without a browser: every route of the route table without a session goes to
the login page, every POST without a valid CSRF token is refused (403), an editor cannot reach the
admin pages, a disabled account's live session stops at once, the login lock-out per account and
per address, the security headers, and no password in any log line, response or audit row."""

from __future__ import annotations

import logging
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from app import create_app, open_services
from console.web import ROUTES
from store import editors
from store.migrate import upgrade
from store.models.console import AuditEntry

pytestmark = pytest.mark.asyncio
PASSWORD = "s3cret-pass-word-1"  # distinctive, to be looked for everywhere afterwards


@pytest.fixture
async def console(make_settings):
    settings = make_settings(console={"max_failures": 3})
    await upgrade(settings.database_url)
    async with open_services(settings) as svc:
        for name, role in (("ed", "editor"), ("ap", "approver"), ("ad", "admin")):
            await editors.add(svc.db, svc.clock, name, role, PASSWORD + name)
        async with TestClient(TestServer(create_app(svc, scheduler=False))) as client:
            client.svc = svc
            yield client


def token_of(html: str) -> str:
    return re.search(r'name="_csrf" value="([^"]+)"', html).group(1)


async def login(client, name: str, password: str | None = None):
    page = await client.get("/console/login")
    return await client.post("/console/login", allow_redirects=False, data={
        "name": name, "password": password or PASSWORD + name, "_csrf": token_of(await page.text())})


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_every_route_without_a_session_goes_to_the_login_page(console):
    protected = [r for r in ROUTES if r.role is not None]
    assert len(protected) >= 4  # the table is walked, not a hand-made list
    for r in protected:
        resp = await console.request(r.method, "/console" + concrete(r.path), allow_redirects=False)
        assert resp.status == 303, (r.method, r.path)
        assert resp.headers["Location"].startswith("/console/login"), r.path


async def test_every_post_without_a_valid_csrf_token_is_refused(console):
    assert (await login(console, "ad")).status == 303
    posts = [r for r in ROUTES if r.method == "POST"]
    assert posts
    for r in posts:
        for data in ({}, {"_csrf": "forged"}):
            resp = await console.post("/console" + concrete(r.path), data=data, allow_redirects=False)
            assert resp.status == 403, (r.path, data)
            assert "页面已过期" in await resp.text()
    # And nothing happened: the admin is still signed in, no account was added.
    assert (await console.get("/console/accounts")).status == 200
    assert [e.name for e in await editors.all_editors(console.svc.db)] == ["ad", "ap", "ed"]


async def test_an_editor_cannot_reach_admin_pages(console):
    await login(console, "ed")
    admin = [r for r in ROUTES if r.role == "admin"]
    assert admin
    page = await console.get("/console/")
    token = token_of(await page.text())
    assert "账号</a>" not in await page.text()  # not in the menu either
    for r in admin:
        resp = await console.request(r.method, "/console" + concrete(r.path), data={"_csrf": token},
                                     allow_redirects=False)
        assert resp.status == 403, r.path
        assert "不能访问此页面" in await resp.text()


async def test_a_disabled_accounts_live_session_stops(console):
    await login(console, "ed")
    assert (await console.get("/console/")).status == 200
    await editors.update(console.svc.db, "ed", disabled=True)
    resp = await console.get("/console/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/console/login")
    page = await console.get(resp.headers["Location"])
    assert "登录已失效" in await page.text()
    # A new password ends sessions too.
    await login(console, "ap")
    await editors.update(console.svc.db, "ap", password="another-password-2")
    assert (await console.get("/console/", allow_redirects=False)).status == 303


async def test_wrong_passwords_lock_the_account_and_say_so(console):
    for left in (2, 1):
        resp = await login(console, "ed", "wrong-password")
        assert resp.status == 401
        assert f"还可以再试 {left} 次" in await resp.text()
    resp = await login(console, "ed", "wrong-password")
    assert resp.status == 429 and "请 15 分钟后再试" in await resp.text()
    resp = await login(console, "ed")  # even the right password, while locked
    assert resp.status == 429
    # The address is locked too: another account from the same client.
    assert (await login(console, "ap")).status == 429


async def test_security_headers(console):
    resp = await console.get("/console/login")
    h = resp.headers
    assert "script-src 'self'" in h["Content-Security-Policy"] and "unsafe-inline" not in h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert h["Referrer-Policy"] == "no-referrer" and h["X-Content-Type-Options"] == "nosniff"
    ok = await login(console, "ed")
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain HTTP here
    assert "<script" not in await (await console.get("/console/")).text()


async def test_no_password_in_any_log_response_or_audit_row(console, caplog):
    caplog.set_level(logging.INFO)  # the level `serve` logs at (main.configure_logging)
    await login(console, "ed", "wrong-" + PASSWORD)
    resp = await login(console, "ad")
    bodies = [await (await console.get(p)).text() for p in ("/console/", "/console/accounts", "/console/audit")]
    page = await console.get("/console/accounts")
    new = "brand-new-password-9"
    r = await console.post("/console/accounts", data={"_csrf": token_of(await page.text()), "name": "newbie",
                                                     "role": "editor", "password": new})
    bodies.append(await r.text())
    r = await console.post("/console/accounts/newbie", data={"_csrf": token_of(bodies[-1]), "action": "password",
                                                            "password": new + "x"})
    bodies.append(await r.text())
    assert resp.status == 303
    async with console.svc.db() as s:
        rows = (await s.scalars(select(AuditEntry))).all()
    assert {r.action for r in rows} >= {"login_failed", "login", "editor_add", "editor_passwd"}
    dumped = " ".join(f"{r.summary} {r.before} {r.after}" for r in rows)
    for secret in (PASSWORD, new, "argon2"):
        assert secret not in dumped
        assert secret not in caplog.text
        assert all(secret not in b for b in bodies)
