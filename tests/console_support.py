"""A console client for tests: signs in, reads the CSRF token from each page, posts forms, and the
bot's services beside it (tests/scheduler_support.bot_env) for the pipeline and the local platform."""

from __future__ import annotations

import re
from dataclasses import dataclass

import aiohttp

from store import editors

PASSWORDS = {"alice": "alice-pass-2026", "bob": "bob-pass-2026!", "root": "root-pass-2026"}
ACCOUNTS = [("alice", "editor", "o_editor_0001"), ("bob", "approver", None), ("root", "admin", None)]


async def add_accounts(services) -> None:
    for name, role, openid in ACCOUNTS:
        await editors.add(services.db, services.clock, name, role, PASSWORDS[name], openid=openid)


def token_of(html: str) -> str:
    return re.search(r'name="_csrf" value="([^"]+)"', html).group(1)


@dataclass
class ConsoleClient:
    base: str  # http://127.0.0.1:PORT/console
    http: aiohttp.ClientSession

    async def get(self, path: str, **kw) -> tuple[int, str]:
        async with self.http.get(self.base + path, **kw) as r:
            return r.status, await r.text()

    async def post(self, path: str, data: dict, page: str | None = None) -> tuple[int, str, str]:
        """POST with the CSRF token of `page` (default: the page posted to, or the dashboard)."""
        _, html = await self.get(page or "/")
        async with self.http.post(self.base + path, data={**data, "_csrf": token_of(html)}) as r:
            return r.status, str(r.url), await r.text()

    async def login(self, name: str) -> None:
        _, html = await self.get("/login")
        async with self.http.post(self.base + "/login", data={"name": name, "password": PASSWORDS[name],
                                                             "_csrf": token_of(html)}) as r:
            assert r.status == 200 and "工作台" in await r.text(), name


def client(base: str) -> ConsoleClient:
    return ConsoleClient(base, aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)))
