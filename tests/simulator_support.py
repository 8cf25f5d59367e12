"""A real bot and a real local platform talking to each other on ephemeral ports, for the follower
simulator's tests (API level and browser):

    async def test_x(chat_world):
        world = await chat_world(retry_after=0.3)       # bot with handlers.ROUTERS by default
        ... world.sandbox.url + "/simulator" ...
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from bot.app import open_services
from bot.server import make_app
from store.migrate import upgrade
from tests.fixtures.sandbox import SandboxHandle

KEYWORDS = [
    {"match": "exact", "pattern": "联系方式", "reply": "秘书处电话 0571-8800 0000（测试）"},
    {"match": "exact", "pattern": "年报", "reply_type": "news", "reply": "年度报告全文",
     "title": "2025 年度报告", "url": "https://example.org/r.html", "picurl": "https://example.org/r.jpg"},
]


@dataclass
class ChatWorld:
    sandbox: SandboxHandle
    bot_url: str  # the webhook URL

    async def api(self, method: str, path: str, **kw) -> tuple[int, dict]:
        async with aiohttp.ClientSession() as http:
            async with http.request(method, f"{self.sandbox.url}/simulator/api/{path}", **kw) as resp:
                return resp.status, await resp.json(content_type=None)


@pytest.fixture
async def chat_world(sandbox_factory, make_settings):
    """`await chat_world(retry_after=5.0, routers=None, **sections)` → a ChatWorld; stopped afterwards."""
    runners: list[web.AppRunner] = []
    stacks = []

    async def start(retry_after: float = 5.0, routers=None, **sections) -> ChatWorld:
        sandbox = await sandbox_factory(delivery_retry_after=retry_after, **sections)
        settings = sandbox.settings_for(make_settings, keywords=KEYWORDS, **sections)
        await upgrade(settings.database_url)
        services_cm = open_services(settings)
        services = await services_cm.__aenter__()
        stacks.append(services_cm)
        runner = web.AppRunner(make_app(services, routers), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        bot_url = f"http://127.0.0.1:{runner.addresses[0][1]}{settings.server.webhook_path}"
        sandbox.set_webhook(bot_url)
        return ChatWorld(sandbox=sandbox, bot_url=bot_url)

    yield start
    for runner in runners:
        await runner.cleanup()
    for cm in reversed(stacks):
        await cm.__aexit__(None, None, None)
