"""Scheduler bench: 100 pushes of 8 articles with 5 images each, from planned to done, through the local
WeChat platform (its daily quotas raised for the run).

    .venv/bin/python bench/scheduler.py [--pushes 100] [--articles 8] [--images 5] [--concurrency 8]

Each article has 4 images of its own and 1 shared by every article (a logo, say), plus its own cover.
The platform runs in this process on 127.0.0.1 with publish_delay 0 and delivers PUBLISHJOBFINISH
to the bot's real webhook (also in this process), which finishes the pushes; the pipeline is driven
by the scheduler's Runner (the tick of `serve`) on a fresh SQLite database.

Prints the wall time, time to done per push (from its planned time), and the WeChat calls per push
by endpoint next to the minimum (each distinct image uploaded once, one draft, one submit).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from aiohttp import web
from PIL import Image as PILImage
from sqlalchemy import func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app, open_services
from core.config import parse_settings
from sandbox.app import PLATFORM_KEY, make_sandbox_app
from scheduler import editing
from scheduler.service import Runner
from store.content.importer import store_image
from store.migrate import upgrade
from store.models.content import Article, ArticleImage
from store.models.pushes import Push

AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def picture(seed: int, size=(320, 200)) -> bytes:
    img = PILImage.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    for x in range(0, size[0], 5):
        img.putpixel((x, (x * seed) % size[1]), (seed % 256, (seed >> 8) % 256, 255 - seed % 256))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def main(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-scheduler-"))
    cfg = {
        "wechat": {"appid": "wxbench000000001", "secret": "bench-secret", "token": "benchtoken",
                   "encoding_aes_key": AES_KEY, "account_id": "gh_bench0000001", "api_base_url": "http://127.0.0.1:9"},
        "database": {"url": f"sqlite+aiosqlite:///{tmp / 'bot.db'}"},
        "sandbox": {"state_path": str(tmp / "sandbox.json")},
        "content": {"media_dir": str(tmp / "media")},
        "scheduler": {"auto_approve": True, "tick_seconds": 0.05, "poll_seconds": 30.0,
                      "concurrency": args.concurrency, "claim_seconds": 300.0},
    }
    platform_settings = parse_settings(cfg, base_dir=tmp, environ={})
    sandbox_runner, sandbox_url = await _serve(make_sandbox_app(platform_settings, publish_delay=0.0))
    platform = sandbox_runner.app[PLATFORM_KEY]
    platform.base_url = sandbox_url
    for endpoint in ("media/uploadimg", "material/add_material", "draft/add", "freepublish/submit",
                     "freepublish/get", "message/custom/send"):
        platform.set_quota(endpoint, 1_000_000)
    cfg["wechat"]["api_base_url"] = sandbox_url
    settings = parse_settings(cfg, base_dir=tmp, environ={})
    await upgrade(settings.database_url)

    async with open_services(settings) as services:
        bot_runner, bot_url = await _serve(create_app(services, scheduler=False))
        platform.configure(webhook_url=bot_url + settings.server.webhook_path)
        t0 = time.perf_counter()
        media = settings.path(settings.content.media_dir)
        shared = await store_image(services.db, media, picture(0))
        n_articles = args.pushes * args.articles
        article_ids = []
        for i in range(n_articles):
            own = [await store_image(services.db, media, picture(1 + i * 10 + k)) for k in range(args.images - 1)]
            cover = await store_image(services.db, media, picture(900_000 + i, (360, 153)))
            imgs = [*own, shared]
            html = "".join(f"<p>第 {i} 篇第 {k} 段：社会组织等级评估工作稳步推进。{'内容' * 150}</p>"
                           f'<p><img src="x.jpg" data-sha256="{img.sha256}"></p>' for k, img in enumerate(imgs))
            async with services.db.begin() as s:
                a = Article(title=f"基准文章{i}", author="秘书处", source_url=f"https://bench.example/{i}",
                            body_html=html, body_text="正文", digest=f"摘要{i}", cover_image_id=cover.id,
                            tags=["新闻动态"], status="ready", content_hash=f"h{i}",
                            published_at=date(2026, 1, 1) + timedelta(days=i % 300))
                s.add(a)
                await s.flush()
                s.add_all(ArticleImage(article_id=a.id, position=p, image_id=img.id) for p, img in enumerate(imgs))
                article_ids.append(a.id)
        t_data = time.perf_counter() - t0

        at = services.clock.now() + timedelta(hours=1)
        pushes = []
        for p in range(args.pushes):
            ids = article_ids[p * args.articles:(p + 1) * args.articles]
            pushes.append((await editing.create(services, editing.PushSpec(article_ids=ids, at=at))).id)
        # All due now (creating 100 takes longer than a pin in the near future allows).
        async with services.db.begin() as s:
            await s.execute(update(Push).values(planned_at=services.clock.now(), created_at=services.clock.now()))
        calls_before = len(platform.calls())
        runner = Runner(services, worker="bench")
        t1 = time.perf_counter()
        while True:
            await runner.tick()
            async with services.db() as s:
                rows = (await s.execute(
                    Push.__table__.select().with_only_columns(Push.state, Push.planned_at, Push.finished_at))).all()
            states = Counter(r.state for r in rows)
            if states["done"] + states["failed"] == len(rows):
                break
            await asyncio.sleep(0.02)
        t_run = time.perf_counter() - t1
        await bot_runner.cleanup()

    calls = platform.calls()[calls_before:]
    per = Counter(c["endpoint"] for c in calls)
    errors = Counter((c["endpoint"], c["errcode"]) for c in calls if c["errcode"])
    to_done = sorted((r.finished_at - r.planned_at).total_seconds() for r in rows if r.finished_at)
    async with open_services(settings) as services, services.db() as s:
        # Distinct images as stored (content-addressed: equal bytes are one image).
        distinct_images = await s.scalar(select(func.count(func.distinct(ArticleImage.image_id))))
        covers = await s.scalar(select(func.count(func.distinct(Article.cover_image_id))))
    minimum = {"media/uploadimg": distinct_images, "material/add_material": covers,
               "draft/add": args.pushes, "freepublish/submit": args.pushes}
    print(f"pushes: {args.pushes} × {args.articles} articles × {args.images} images "
          f"({n_articles} articles, {distinct_images} distinct body images, {covers} distinct covers)")
    print(f"states: {dict(states)}")
    print(f"test data made in {t_data:.1f} s; pipeline wall time {t_run:.1f} s "
          f"({args.pushes / t_run:.2f} pushes/s) at concurrency {args.concurrency}")
    if to_done:
        print(f"time to done (all due at once; uploads, draft, submit, event): p50 {statistics.median(to_done):.1f} s, "
              f"p95 {to_done[int(len(to_done) * 0.95) - 1]:.1f} s, max {to_done[-1]:.1f} s")
    print("WeChat calls (per push; minimum in brackets):")
    for endpoint, n in sorted(per.items(), key=lambda kv: -kv[1]):
        floor = minimum.get(endpoint)
        print(f"  {endpoint:28} {n:6}  {n / args.pushes:7.2f}/push" + (f"  [{floor / args.pushes:.2f}]" if floor else ""))
    total_min = sum(minimum.values())
    print(f"  {'total':28} {len(calls):6}  {len(calls) / args.pushes:7.2f}/push  [{total_min / args.pushes:.2f}]")
    if errors:
        print(f"errors: {dict(errors)}")
    await sandbox_runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=100)
    parser.add_argument("--articles", type=int, default=8)
    parser.add_argument("--images", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
