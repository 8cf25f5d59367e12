"""The scheduler's test bench: a migrated database, the bot's real webhook on 127.0.0.1 (so the local
platform's PUBLISHJOBFINISH / MASSSENDJOBFINISH reach scheduler/events.py), articles with real images
in the content store, and a Runner to drive the pipeline tick by tick."""

from __future__ import annotations

import asyncio
import io
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from aiohttp import web
from PIL import Image as PILImage
from sqlalchemy import select

from app import create_app, open_services
from core.clock import Clock, FakeClock
from core.services import Services
from scheduler.service import Runner
from store.content.importer import store_image
from store.migrate import upgrade
from store.models.content import Article, ArticleImage
from store.models.pushes import Push

EDITOR = "o_editor_0001"
EVERY_DAY = {d: ["08:00", "12:00", "20:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
FAST = {"tick_seconds": 0.05, "poll_seconds": 0.2, "retry_seconds": 0.1, "claim_seconds": 30,
        "publish_settle_seconds": 1.0, "slots": EVERY_DAY}


def picture(seed: int, size: tuple[int, int] = (120, 80), fmt: str = "JPEG") -> bytes:
    img = PILImage.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    for x in range(0, size[0], 7):  # a little texture so that every seed gives distinct bytes
        img.putpixel((x, (x * seed) % size[1]), (seed % 256, 0, 255 - seed % 256))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


@dataclass
class Env:
    services: Services
    sandbox: object
    runner: Runner
    base_url: str = ""  # the bot's http://127.0.0.1:PORT when its webhook (and console) runs

    @property
    def settings(self):
        return self.services.settings

    async def articles(self, n: int, images: int = 2, *, shared_image: bool = True, status: str = "ready",
                       start: int = 0, body_chars: int = 200, tags: list[str] | None = None) -> list[int]:
        """`n` articles, each with `images` body images (one of them shared by all when
        `shared_image`) and its own cover."""
        media = self.settings.path(self.settings.content.media_dir)
        shared = await store_image(self.services.db, media, picture(9999)) if shared_image else None
        ids = []
        for i in range(start, start + n):
            body_imgs = [await store_image(self.services.db, media, picture(1000 + i * 10 + k))
                         for k in range(images - (1 if shared else 0))]
            if shared is not None and images:
                body_imgs.append(shared)
            cover = await store_image(self.services.db, media, picture(50_000 + i, (300, 128)))
            html = "".join(f'<p>第 {i} 篇第 {k} 段。{"内容" * (body_chars // 2)}</p>'
                           f'<p><img src="x.jpg" data-sha256="{img.sha256}"></p>'
                           for k, img in enumerate(body_imgs)) or f"<p>第 {i} 篇。</p>"
            async with self.services.db.begin() as s:
                a = Article(title=f"测试推送文章{i}", author="秘书处", source_url=f"https://www.example.org/n/{i}.html",
                            body_html=html, body_text="正文", digest=f"摘要{i}", cover_image_id=cover.id,
                            tags=tags or ["新闻动态"], status=status, content_hash=f"h{i}",
                            published_at=date(2026, 1, 1) + timedelta(days=i))
                s.add(a)
                await s.flush()
                for pos, img in enumerate(body_imgs):
                    s.add(ArticleImage(article_id=a.id, position=pos, image_id=img.id))
                ids.append(a.id)
        return ids

    async def push(self, push_id: int) -> Push:
        async with self.services.db() as s:
            return await s.scalar(select(Push).where(Push.id == push_id))

    async def drive(self, push_id: int, until: tuple[str, ...], timeout: float = 10.0, until_fn=None) -> Push:
        """Tick and let the platform finish its jobs until the push reaches one of `until` (and
        satisfies `until_fn`, when given)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.runner.tick()
            await self.sandbox.settle()
            push = await self.push(push_id)
            if push.state in until and (until_fn is None or until_fn(push)):
                return push
            if loop.time() > deadline:
                raise AssertionError(f"push {push_id} is {push.state}, not {until} (reason: {push.error_reason})")
            if isinstance(self.services.clock, FakeClock):
                self.services.clock.advance(1.0)
            await asyncio.sleep(0.02)


@asynccontextmanager
async def bot_env(sandbox, make_settings, *, scheduler: dict | None = None, webhook: bool = True,
                  clock: Clock | None = None, **sections):
    """The bot's services on a fresh migrated database, talking to `sandbox`, with its webhook running."""
    sections.setdefault("editors", {"openids": [EDITOR]})
    settings = sandbox.settings_for(make_settings, scheduler={**FAST, **(scheduler or {})}, **sections)
    await upgrade(settings.database_url)
    sandbox.platform.set_follower(EDITOR)
    async with open_services(settings, clock=clock) as services:
        runner = None
        base_url = ""
        if webhook:
            runner = web.AppRunner(create_app(services, scheduler=False), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            base_url = f"http://127.0.0.1:{port}"
            sandbox.set_webhook(f"{base_url}{settings.server.webhook_path}")
        try:
            yield Env(services, sandbox, Runner(services, worker="test"), base_url)
        finally:
            if runner is not None:
                await runner.cleanup()
