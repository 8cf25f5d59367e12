"""The console's editing pages under load: 10,000 member units, 50,000 articles (with their search
index), 20,000 followers and 1,000,000 message-log rows, then each page of 文章, 会员, 自动回复, 菜单,
消息记录 and 粉丝 requested over HTTP as a signed-in editor and admin; prints p50/p95 per page.
Target: p95 ≤ 150 ms on SQLite and on PostgreSQL.

    .venv/bin/python bench/console_editing.py [--members 10000] [--articles 50000] [--log-rows 1000000]
        [--requests 30] [--pg postgresql+asyncpg://root@127.0.0.1:5432/test [--keep-pg] [--no-sqlite]]
        [--keep /tmp/bench.db] [--only WORD]

--keep and --keep-pg load a database once and reuse it on the next runs (to iterate on one page).

The times are taken at the client on the same machine (loopback), so they include the HTTP round
trip: an upper bound of the server's time. The message log's rows are inserted directly (the
webhook's writer would take minutes); everything else goes through the product's own writers.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp.test_utils import TestServer

from app import create_app, open_services
from bench import content as content_bench
from bench.members import generate
from core.config import parse_settings
from store import editors, keywords
from store.members.importer import ImportReport, upsert
from store.migrate import upgrade

PASSWORD = "bench-pass-word-1"
TYPES = ["text"] * 6 + ["event:click"] * 2 + ["event:subscribe", "image", "event:view"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _settings(url: str, tmp: Path):
    cfg = {"wechat": {"appid": "wxbench", "secret": "s", "token": "benchtoken", "account_id": "gh_bench",
                      "api_base_url": "http://127.0.0.1:9"},
           "database": {"url": url}, "content": {"media_dir": str(tmp / "media")},
           "console": {"secret_file": str(tmp / "console.key")}, "scheduler": {"enabled": False}}
    return parse_settings(cfg, base_dir=tmp, environ={})


def log_rows(followers: int, total: int):
    rng = random.Random(3)
    for i in range(total):
        openid = f"o_bench_{rng.randrange(followers):06d}"
        kind = rng.choice(TYPES)
        yield (T0 + timedelta(seconds=i * 2), openid, "in" if i % 2 == 0 else "out",
               "webhook" if i % 2 == 0 else "passive", kind, "会费标准" if kind == "text" else "NEWS_LATEST")


async def load_log(url: str, followers: int, total: int) -> None:
    if url.startswith("sqlite"):
        import sqlite3

        def load() -> None:
            con = sqlite3.connect(url.split("///", 1)[1])
            with con:
                con.executemany("INSERT INTO followers (openid, subscribed, first_seen, last_seen, message_window_used, "
                                "event_window_used) VALUES (?, 1, ?, ?, 0, 0)",
                                [(f"o_bench_{i:06d}", T0.isoformat(" "), (T0 + timedelta(minutes=i)).isoformat(" "))
                                 for i in range(followers)])
                for batch in content_bench._batches(log_rows(followers, total), 20_000):
                    con.executemany("INSERT INTO message_log (at, openid, direction, channel, msg_type, content) "
                                    "VALUES (?, ?, ?, ?, ?, ?)", [(a.isoformat(" "), *rest) for a, *rest in batch])
                con.execute("UPDATE articles SET tags = '[\"\\u901a\\u77e5\"]', source_name = '中国社会报' WHERE id % 10 = 0")
            con.execute("ANALYZE")
            con.close()

        await asyncio.to_thread(load)
        return
    import asyncpg

    con = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await con.copy_records_to_table("followers", records=[
            (f"o_bench_{i:06d}", True, T0, T0 + timedelta(minutes=i), 0, 0) for i in range(followers)],
            columns=["openid", "subscribed", "first_seen", "last_seen", "message_window_used", "event_window_used"])
        for batch in content_bench._batches(log_rows(followers, total), 50_000):
            await con.copy_records_to_table("message_log", records=batch,
                                            columns=["at", "openid", "direction", "channel", "msg_type", "content"])
        await con.execute("UPDATE articles SET tags = '[\"\\u901a\\u77e5\"]', source_name = '中国社会报' WHERE id % 10 = 0")
        await con.execute("VACUUM ANALYZE")
    finally:
        await con.close()


async def measure(name: str, url: str, args) -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        settings = _settings(url, tmp)
        loaded = name == "sqlite" and bool(args.keep) and await asyncio.to_thread(Path(args.keep).exists)
        await upgrade(url)
        if name == "postgresql" and args.keep_pg:
            loaded = await _pg_loaded(url)
        t0 = time.perf_counter()
        rows = generate(args.members, random.Random(1))
        if not loaded:
            await (content_bench.load_sqlite(url, args.articles) if name == "sqlite"
                   else content_bench.load_pg(url, args.articles))
            await load_log(url, args.followers, args.log_rows)
        async with open_services(settings) as svc:
            if not loaded:
                report = ImportReport(path="bench")
                await upsert(svc.db, rows, svc.clock.now(), "import bench.xlsx", report)
                for i in range(40):
                    await keywords.add_rule(svc, "contains" if i % 2 else "exact", f"关键词{i}", f"回复 {i}")
                await editors.add(svc.db, svc.clock, "bench", "admin", PASSWORD)
            print(f"{name}: {args.members:,} members, {args.articles:,} articles, {args.log_rows:,} log rows, "
                  f"loaded in {time.perf_counter() - t0:.0f} s")
            server = TestServer(create_app(svc, scheduler=False), host="127.0.0.1")
            await server.start_server()
            try:
                await _pages(server, rows, args.requests, args.articles // 2, args.only)
            finally:
                await server.close()


async def _pg_loaded(url: str) -> bool:
    """A kept database counts as loaded once the bench's editor exists: that is the load's last step."""
    import asyncpg

    con = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return bool(await con.fetchval("SELECT count(*) FROM editors WHERE name = 'bench'"))
    finally:
        await con.close()


async def _pages(server: TestServer, rows, n: int, article_id: int, only: str = "") -> None:
    base = str(server.make_url("/console"))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(base + "/login") as r:
            token = re.search(r'name="_csrf" value="([^"]+)"', await r.text()).group(1)
        async with http.post(base + "/login", data={"name": "bench", "password": PASSWORD, "_csrf": token}) as r:
            assert r.status == 200
        async with http.get(base + "/members") as r:
            member_id = re.search(r'href="/console/members/(\d+)"', await r.text()).group(1)
        pages = {
            "文章 list": "/articles", "文章 search": "/articles?q=评估工作", "文章 filtered": "/articles?column=通知&status=imported",
            "文章 page": f"/articles/{article_id}", "会员 list": "/members", "会员 list p100": "/members?offset=5000",
            "会员 search": "/members?q=" + rows[77].name[3:7], "会员 page": f"/members/{member_id}",
            "自动回复": "/keywords", "自动回复 try": "/keywords?try=关键词7", "菜单": "/menu",
            "消息记录": "/messages", "消息记录 rare type": "/messages?type=event:view",
            "消息记录 follower": "/messages?openid=o_bench_000123", "消息记录 day": "/messages?from=2026-01-05&to=2026-01-05",
            "对话": "/messages/o_bench_000123", "粉丝": "/followers", "粉丝 p100": "/followers?offset=5000", "导入": "/imports",
        }
        print(f"  {'page':<22}{'p50 ms':>8}{'p95 ms':>8}")
        for label, path in pages.items():
            if only not in label:
                continue
            times = []
            for _ in range(n):
                t = time.perf_counter()
                async with http.get(base + path) as r:
                    await r.read()
                    assert r.status == 200, (path, r.status)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            flag = "" if p95 <= 150 else "  > 150 ms"
            print(f"  {label:<22}{statistics.median(times):>8.1f}{p95:>8.1f}{flag}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--followers", type=int, default=20_000)
    parser.add_argument("--log-rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--pg", metavar="URL", help="also on PostgreSQL (a database is made and dropped)")
    parser.add_argument("--keep", metavar="FILE", help="the SQLite file to load once and reuse (loaded if absent)")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--keep-pg", action="store_true",
                        help="use the --pg database itself, loaded once and kept (else a scratch one is made and dropped)")
    parser.add_argument("--only", metavar="WORD", default="", help="only the pages whose label contains it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            await measure("sqlite", f"sqlite+aiosqlite:///{args.keep or tmp + '/bench.db'}", args)
    if args.pg and args.keep_pg:
        await measure("postgresql", args.pg, args)
    elif args.pg:
        await content_bench.with_pg_database(args.pg, lambda url: measure("postgresql", url, args))


if __name__ == "__main__":
    asyncio.run(main())
