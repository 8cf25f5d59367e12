"""Content bench: import throughput from a local website, and search latency over 50,000 articles.

    .venv/bin/python bench/content.py                       # SQLite only
    .venv/bin/python bench/content.py --pg postgresql+asyncpg://root@127.0.0.1:5432/test

1. Import: a generated site on 127.0.0.1 (a listing of 50 links per page, `--pages` article pages in
   the two page structures of tests/content_site.py, one distinct image each) is imported by the real
   Importer into a fresh SQLite database; the site runs in a process of its own. Target: ≥ 60 pages/s
   (pages are parsed off the event loop: store/content/parsing.py says where; --parse thread,process1,process2 compares;
   the site's own CPU is printed too, since it shares the cores). Politeness is set by --concurrency and
   --delay (the defaults of [content], 4 and 0.2 s, cap any importer at 4/0.2 = 20 requests/s, images
   included; the bench measures the importer, so it uses 8 and 0).
2. Search: `--articles` generated articles (titles and ~300-character bodies from a vocabulary of
   federation news) are loaded straight into a fresh database with the index rows search.py builds,
   then a mix of 2-, 3- and 4-character terms (and a few that match nothing) is searched. Target:
   p95 ≤ 20 ms, on SQLite and on PostgreSQL.
Figures are printed; they vary between runs on a shared machine (compare within one run).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from PIL import Image as PILImage
from PIL import ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.clock import Clock
from core.config import parse_settings
from store.content.importer import Importer
from store.content.search import search_hits, term_rows
from store.content.texts import import_summary
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from tests.content_site import Story, page_a, page_b

WORDS = (
    "社会组织 等级评估 年会 培训 公益 党建 会员 志愿者 基金会 慈善 行业协会 研讨会 理事会 秘书处 民政厅 "
    "规范化建设 内部治理 信息公开 财务管理 人才培养 乡村振兴 共同富裕 公益项目 项目对接 服务中心 专家库 "
    "评估指标 申报材料 实地考察 主题党日 座谈会 调研 合规运营 数字化 品牌建设 会员大会 表彰 捐赠 助学 "
    "养老服务 社区治理 应急救援 环境保护 法律咨询 能力建设 交流平台 合作意向 工作报告"
).split()
FILLER = "近日 会议 指出 要求 围绕 推进 开展 组织 参加 活动 工作 进一步 积极 全面 重点 持续 提升 加强".split()
TERMS = {
    2: ["评估", "培训", "年会", "公益", "党建", "会员", "慈善", "调研", "表彰", "捐赠", "养老", "助学"],
    3: ["志愿者", "基金会", "研讨会", "理事会", "秘书处", "民政厅", "专家库", "数字化", "座谈会", "会员大"],
    4: ["等级评估", "社会组织", "行业协会", "内部治理", "信息公开", "人才培养", "乡村振兴", "公益项目", "主题党日", "合规运营"],
    0: ["量子计算", "航天发射", "估评"],  # rare or absent (估评: only where two titles' words meet)
}  # fmt: skip


WORST = ["会议会议", "社会评估", "工作工作"]


def sentence(rng: random.Random) -> str:
    return "".join(rng.choice(FILLER) + rng.choice(WORDS) for _ in range(rng.randint(3, 6))) + "。"


def make_body(rng: random.Random, chars: int = 300) -> list[str]:
    paragraphs, text = [], ""
    while len(text) < chars:
        p = "".join(sentence(rng) for _ in range(rng.randint(2, 4)))
        paragraphs.append(p)
        text += p
    return paragraphs


def make_title(rng: random.Random) -> str:
    return (
        rng.choice(["总会", "省民政厅", "各地", "会员单位"])
        + "".join(rng.sample(WORDS, 2))
        + rng.choice(["工作会议召开", "活动顺利举行", "取得新进展", "专题培训开班", "经验交流会举行"])
    )


# --- 1. import ---------------------------------------------------------------------------------------------


def picture(i: int) -> bytes:
    img = PILImage.new("RGB", (320, 200), (i * 37 % 256, i * 73 % 256, i * 11 % 256))
    ImageDraw.Draw(img).text((20, 80), f"picture {i}", fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def site_app(n: int, per_page: int = 50) -> web.Application:
    rng = random.Random(1)
    start = date(2020, 1, 1)
    stories = []
    for i in range(n):
        when = start + timedelta(days=i)
        stories.append(Story(f"p{i}", make_title(rng), when.isoformat() if i % 2 else f"{when.year}年{when.month}月{when.day}日",
                             "总会秘书处", make_body(rng, 600), f"/uploads/{i}.jpg", "A" if i % 2 else "B"))  # fmt: skip
    pages = [stories[i : i + per_page] for i in range(0, n, per_page)]
    images = {f"/uploads/{i}.jpg": picture(i) for i in range(n)}

    async def handle(request: web.Request) -> web.Response:
        path = request.path
        if path.startswith("/news/list_"):
            k = int(path.removeprefix("/news/list_").removesuffix(".html"))
            items = "".join(
                f'<li><a href="{s.slug}.html">{s.title}</a><span>{s.date}</span></li>' for s in pages[k]
            )
            nxt = f'<a href="list_{k + 1}.html">下一页</a>' if k + 1 < len(pages) else ""
            html = f"<html><body><ul class='list'>{items}</ul><div class='pager'>{nxt}</div></body></html>"
            return web.Response(text=html, content_type="text/html")
        if path in images:
            return web.Response(body=images[path], content_type="image/jpeg")
        i = int(path.removeprefix("/news/p").removesuffix(".html"))
        s = stories[i]
        if s.layout == "A":
            return web.Response(text=page_a(s), content_type="text/html")
        return web.Response(body=page_b(s), headers={"Content-Type": "text/html"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


def _cpu_seconds() -> tuple[float, float]:
    """(this process, its joined children: the parse workers) CPU seconds."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def serve_site(n: int, conn) -> None:
    """The site, in a process of its own: a real website's CPU is not the importer's."""
    async def main() -> None:
        runner = web.AppRunner(site_app(n), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        conn.send(site._server.sockets[0].getsockname()[1])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        await runner.cleanup()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(usage.ru_utime + usage.ru_stime)  # the site's CPU: it shares the machine's cores

    asyncio.run(main())


async def bench_import(n: int, concurrency: int, delay: float, parsers: list[str]) -> None:
    for how in parsers:
        await _bench_import(n, concurrency, delay, how)


async def _bench_import(n: int, concurrency: int, delay: float, how: str) -> None:
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve_site, args=(n, theirs), daemon=True)
    server.start()
    port = await asyncio.to_thread(ours.recv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await upgrade(url)
        settings = parse_settings({
            "wechat": {"appid": "wxbench", "secret": "s", "token": "benchtoken", "account_id": "gh_bench"},
            "database": {"url": url},
            "content": {"media_dir": f"{tmp}/media", "fetch_concurrency": concurrency,
                        "fetch_delay_seconds": delay},
        }, base_dir=Path(tmp), environ={})  # fmt: skip
        engine = make_engine(url)
        async with aiohttp.ClientSession() as http:
            importer = Importer(settings, make_session_factory(engine), Clock(), http)
            if how == "process":
                importer.parser.workers = max(2, importer.parser.workers)
            elif how == "thread":  # no worker process: PageParser parses in a thread of this process
                importer.parser.workers = 0
            elif how.startswith("process") and how[len("process"):].isdigit():  # process1, process2 …
                importer.parser.workers = int(how[len("process"):])
            cpu0 = _cpu_seconds()
            t0 = time.perf_counter()
            report = await importer.run(f"http://127.0.0.1:{port}/news/list_0.html")
            elapsed = time.perf_counter() - t0
            main_cpu, workers_cpu = (b - a for a, b in zip(cpu0, _cpu_seconds(), strict=True))
            cpu = main_cpu + workers_cpu  # the parse workers are joined at the end of run
            # Parsing in a thread holds the interpreter lock: the importer then uses one core.
            usable = (os.cpu_count() or 1) if workers_cpu else 1
            t1 = time.perf_counter()
            again = await Importer(settings, make_session_factory(engine), Clock(), http).run(
                f"http://127.0.0.1:{port}/news/list_0.html"
            )
            elapsed_again = time.perf_counter() - t1
        await engine.dispose()
    ours.send("stop")
    site_cpu = await asyncio.to_thread(ours.recv)
    await asyncio.to_thread(server.join, 10)
    print(f"import ({how} parsing): {n} pages + {n} images, concurrency {concurrency}, delay {delay:g} s, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(
        f"  first run:  {elapsed:.1f} s = {len(report.added) / elapsed:.1f} pages/s ({import_summary(report).splitlines()[0]})"
    )
    print(f"  first run used {cpu:.1f} CPU-seconds = {1000 * cpu / n:.1f} ms a page ({1000 * main_cpu / n:.1f} in the "
          f"importer's process, {1000 * workers_cpu / n:.1f} in parse workers): "
          f"{n / cpu:.0f} pages per CPU-second, at most {usable * n / cpu:.0f} pages/s on {usable} idle core(s)")  # fmt: skip
    print(f"  the site (its own process, both runs) used {site_cpu:.1f} CPU-seconds = {1000 * site_cpu / n:.1f} ms a page "
          f"on the same {os.cpu_count()} cores")  # fmt: skip
    print(f"  second run: {elapsed_again:.1f} s = {len(again.unchanged) / elapsed_again:.1f} pages/s "
          f"({import_summary(again).splitlines()[0]})")  # fmt: skip


# --- 2. search -----------------------------------------------------------------------------------------------


def corpus(n: int):
    rng = random.Random(2)
    start = date(2015, 1, 1)
    for i in range(1, n + 1):
        title = make_title(rng)
        body = "\n".join(make_body(rng, 300))
        yield i, title, start + timedelta(days=rng.randint(0, 3650)), body


async def load_sqlite(url: str, n: int) -> int:
    import sqlite3

    def load() -> int:
        path = url.split("///", 1)[1]
        con = sqlite3.connect(path)
        terms = 0
        with con:
            for batch in _batches(corpus(n), 2000):
                con.executemany(
                    "INSERT INTO articles (id, title, author, source_name, published_at, source_url, body_html, "
                    "body_text, digest, tags, status, content_hash, created_at, updated_at) VALUES "
                    "(?, ?, '', '', ?, ?, '', ?, '', '[]', 'imported', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                    [(i, t, d.isoformat(), f"https://bench/{i}", b) for i, t, d, b in batch],
                )
                rows = [r for i, t, d, b in batch for r in term_rows(i, d, t, b)]
                terms += len(rows)
                con.executemany(
                    "INSERT INTO article_terms (term, field, sort_key, article_id) VALUES (?, ?, ?, ?)",
                    [(r["term"], r["field"], r["sort_key"], r["article_id"]) for r in rows],
                )
        con.execute("ANALYZE")
        con.close()
        return terms

    return await asyncio.to_thread(load)


async def load_pg(url: str, n: int) -> int:
    import asyncpg

    con = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    terms = 0
    try:
        stamp = datetime(2026, 1, 1, tzinfo=UTC)
        for batch in _batches(corpus(n), 2000):
            await con.copy_records_to_table(
                "articles",
                records=[
                    (i, t, "", "", d, f"https://bench/{i}", "", b, "", "[]", "imported", "", stamp, stamp)
                    for i, t, d, b in batch
                ],  # fmt: skip
                columns=[
                    "id",
                    "title",
                    "author",
                    "source_name",
                    "published_at",
                    "source_url",
                    "body_html",
                    "body_text",
                    "digest",
                    "tags",
                    "status",
                    "content_hash",
                    "created_at",
                    "updated_at",
                ],  # fmt: skip
            )
            rows = [(r["term"], r["field"], r["sort_key"], r["article_id"])
                    for i, t, d, b in batch for r in term_rows(i, d, t, b)]  # fmt: skip
            terms += len(rows)
            await con.copy_records_to_table("article_terms", records=rows,
                                            columns=["term", "field", "sort_key", "article_id"])  # fmt: skip
        await con.execute("SELECT setval(pg_get_serial_sequence('articles', 'id'), $1)", n)
        # What autovacuum would do after such a load: without it the first queries also pay for
        # setting hint bits and visibility-map bits on 18M fresh rows (p95 ~90 ms in one run).
        await con.execute("VACUUM ANALYZE")
    finally:
        await con.close()
    return terms


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def bench_search(name: str, url: str, n: int, queries: int) -> None:
    await upgrade(url)
    t0 = time.perf_counter()
    terms = await (load_sqlite(url, n) if name == "sqlite" else load_pg(url, n))
    print(f"search on {name}: {n} articles, {terms:,} index rows, loaded in {time.perf_counter() - t0:.0f} s")
    engine = make_engine(url)
    db = make_session_factory(engine)
    rng = random.Random(3)
    mix = [(k, t) for k, ts in TERMS.items() for t in ts]
    timings: dict[int, list[float]] = {k: [] for k in TERMS}
    hits_seen: dict[int, list[int]] = {k: [] for k in TERMS}
    for _, t in mix:  # warm the caches once, as a running bot would have them
        async with db() as session:
            await search_hits(session, t, 10)
    for _ in range(queries):
        k, t = rng.choice(mix)
        start = time.perf_counter()
        async with db() as session:
            hits = await search_hits(session, t, 10)
        timings[k].append((time.perf_counter() - start) * 1000)
        hits_seen[k].append(len(hits))
    # Worst cases, outside the mix: phrases absent from the corpus whose bigrams are all common
    # walk a whole posting list (each bigram ~ every article).
    worst = []
    for t in WORST:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            async with db() as session:
                n_hits = len(await search_hits(session, t, 10))
            best = min(best, (time.perf_counter() - start) * 1000)
        worst.append(f"{t} {best:.0f} ms ({n_hits} hits)")
    await engine.dispose()
    every = sorted(x for xs in timings.values() for x in xs)
    p = statistics.quantiles(every, n=100)
    print(
        f"  {queries} queries: p50 {p[49]:.1f} ms, p95 {p[94]:.1f} ms, p99 {p[98]:.1f} ms, max {every[-1]:.1f} ms"
    )
    for k, xs in timings.items():
        if xs:
            q = statistics.quantiles(xs, n=20) if len(xs) > 1 else [xs[0]] * 19
            label = f"{k}-char" if k else "rare"
            print(
                f"    {label:>8}: {len(xs):4} queries, p95 {q[18]:.1f} ms, mean hits {statistics.mean(hits_seen[k]):.1f}"
            )
    print(f"  worst cases (phrases whose bigrams are all common, best of 3): {'; '.join(worst)}")


async def with_pg_database(url: str, fn) -> None:
    import asyncpg

    base, _, _ = url.rpartition("/")
    admin = url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"bench_content_{uuid.uuid4().hex[:8]}"
    con = await asyncpg.connect(admin)
    await con.execute(f'CREATE DATABASE "{name}"')
    await con.close()
    try:
        await fn(f"{base}/{name}")
    finally:
        con = await asyncpg.connect(admin)
        await con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await con.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=1000, help="article pages to import (default 1000)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--articles", type=int, default=50_000, help="articles to search (default 50000)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--pg", metavar="URL", help="also search on PostgreSQL (a scratch database is created there)"
    )
    parser.add_argument("--parse", default="default", metavar="HOW[,HOW…]",
                        help="default (what the importer chooses), thread, process (one per core) or processN "
                             "(N workers); several, comma-separated, run in turn (default: default)")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()

    if not args.skip_import:
        await bench_import(args.pages, args.concurrency, args.delay,
                           args.parse.split(","))
    if args.skip_search:
        return
    with tempfile.TemporaryDirectory() as tmp:
        await bench_search("sqlite", f"sqlite+aiosqlite:///{tmp}/search.db", args.articles, args.queries)
    if args.pg:
        await with_pg_database(
            args.pg, lambda url: bench_search("postgresql", url, args.articles, args.queries)
        )


if __name__ == "__main__":
    asyncio.run(main())
