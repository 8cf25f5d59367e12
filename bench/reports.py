"""Reports benchmark: the registry's figures over 100,000 member units and a year's reading report, on
SQLite and PostgreSQL.

    .venv/bin/python bench/reports.py [--units 100000] [--runs 20] [--pg postgresql+asyncpg://root@127.0.0.1:5432/test]

Loads generated units (kinds, roles, regions of Zhejiang's cities and counties, grades of 2012–2025,
registration dates, 参评资格 for some, evaluations taken), then re-imports 5 % of them changed
through the real importer (so the history holds changes), and times `registry_figures`:

- today, computed afresh (what the first request after an import or at midnight pays);
- a day before the changes, computed afresh from the history (`--on` a past day);
- served from the snapshot shared by every process (store/members/snapshots.py: what a request pays
  once the figures of this registry version and day were computed, by any process);
- served through the per-process cache (what followers' 统计 and the console pay otherwise);
- served through the per-process cache with the console's 统计 page's options (a ranking of 20, the
  expiring units listed);
- a unit's place in the ranking (我的状态).

Then the reading half: 1,500 articles sent in a year, 30 days of figures each, and a year of
follower figures, and `reading_report` for the year (articles, reads, means, top articles,
follower growth), and all the console's 阅读数据 page reads (the report, the followers by day, the
reads per push). Target: registry figures p95 ≤ 50 ms (served); a year's reading report ≤ 500 ms. The script prints the figures and the headline; PostgreSQL
runs in a scratch database created (and dropped) on the server `--pg` names.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from store.db import make_engine, make_session_factory
from store.members import credit_code, stats_texts
from store.members.importer import ImportReport, upsert
from store.members.stats import FiguresCache, place_in_ranking, registry_figures
from store.members.table import MemberRow
from store.migrate import upgrade
from store.models.members import Member
from store.models.reading import ArticleDay, FollowerDay, FollowerSource, ReadArticle
from store.reading import records
from store.reading import texts as reading_texts
from store.reading.report import follower_series, push_reads, reading_report

ZONE = "Asia/Shanghai"
ROLES = ["会长单位", "常务副会长单位", "副会长单位", "理事单位", "会员单位"]
ROLE_WEIGHTS = [1, 30, 300, 3000, 96669]
KINDS = [("社会团体", 60), ("基金会", 10), ("社会服务机构", 30)]
CITIES = {
    "杭州市": "上城区 拱墅区 西湖区 滨江区 萧山区 余杭区 临平区 钱塘区 富阳区 临安区 桐庐县 淳安县 建德市",
    "宁波市": "海曙区 江北区 北仑区 镇海区 鄞州区 奉化区 象山县 宁海县 余姚市 慈溪市",
    "温州市": "鹿城区 龙湾区 瓯海区 洞头区 永嘉县 平阳县 苍南县 文成县 泰顺县 瑞安市 乐清市 龙港市",
    "嘉兴市": "南湖区 秀洲区 嘉善县 海盐县 海宁市 平湖市 桐乡市",
    "湖州市": "吴兴区 南浔区 德清县 长兴县 安吉县",
    "绍兴市": "越城区 柯桥区 上虞区 新昌县 诸暨市 嵊州市",
    "金华市": "婺城区 金东区 武义县 浦江县 磐安县 兰溪市 义乌市 东阳市 永康市",
    "衢州市": "柯城区 衢江区 常山县 开化县 龙游县 江山市",
    "舟山市": "定海区 普陀区 岱山县 嵊泗县",
    "台州市": "椒江区 黄岩区 路桥区 三门县 天台县 仙居县 温岭市 临海市 玉环市",
    "丽水市": "莲都区 青田县 缙云县 遂昌县 松阳县 云和县 庆元县 景宁畲族自治县 龙泉市",
}
REGIONS = (
    ["浙江省"]
    + [c for c in CITIES]
    + [c + county for c, counties in CITIES.items() for county in counties.split()]
)
GRADES = [("5A", 15), ("4A", 30), ("3A", 35), ("2A", 15), ("1A", 5)]
LOADED = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
CHANGED = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
TODAY = date(2026, 1, 5)
BEFORE_CHANGES = date(2025, 9, 1)


def unit(rng: random.Random, n: int) -> dict:
    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    evaluated = rng.random() < 0.65
    grade_year = rng.randint(2012, 2025) if evaluated else None
    registered = date(rng.randint(1990, 2025), rng.randint(1, 12), rng.randint(1, 28))
    if grade_year is not None and grade_year < registered.year + 2:
        registered = registered.replace(year=grade_year - 2)
    return dict(
        name=f"浙江省{n:06d}号{rng.choice(['协会', '学会', '研究会', '基金会', '服务中心'])}",
        credit_code=credit_code.generate(rng, kind, "330100"),
        kind=kind,
        role=rng.choices(ROLES, ROLE_WEIGHTS)[0],
        joined_on=None,
        grade=rng.choices([g for g, _ in GRADES], [w for _, w in GRADES])[0] if evaluated else None,
        grade_year=grade_year,
        dues_paid_through=2025,
        region=rng.choice(REGIONS),
        contact_person="",
        contact_phone="",
        registered_on=registered,
        eligible=rng.choice([True, False]) if rng.random() < 0.05 else None,
        evaluations=rng.randint(1, 4) if evaluated else 0,
    )


async def load(url: str, units: int) -> None:
    await upgrade(url)
    engine = make_engine(url)
    db = make_session_factory(engine)
    rng = random.Random(17)
    rows = [unit(rng, n) for n in range(units)]
    codes = {r["credit_code"] for r in rows}
    assert len(codes) == len(rows), "generated credit codes collide: change the seed"
    started = time.perf_counter()
    async with engine.begin() as conn:
        for i in range(0, len(rows), 2000):
            chunk = [
                {**r, "retired": False, "created_at": LOADED, "updated_at": LOADED}
                for r in rows[i : i + 2000]
            ]
            await conn.execute(insert(Member), chunk)
    loaded = time.perf_counter() - started
    # A later import changes 5 % of the units: new grades, roles, regions, a 参评资格.
    changed = []
    for line, r in enumerate(rng.sample(rows, units // 20), start=1):
        r = {**r, "grade": "5A", "grade_year": 2025, "evaluations": (r["evaluations"] or 0) + 1}
        if rng.random() < 0.3:
            r["region"] = rng.choice(REGIONS)
        if rng.random() < 0.1:
            r["role"] = "副会长单位"
        changed.append(MemberRow(line=line, **r))
    started = time.perf_counter()
    report = ImportReport("bench", rows=len(changed))
    await upsert(db, changed, CHANGED, "import bench.xlsx", report)
    print(f"  loaded {units:,} units in {loaded:.1f} s; re-imported {len(report.updated):,} changed through "
          f"the importer in {time.perf_counter() - started:.1f} s")  # fmt: skip
    await engine.dispose()


def quantiles(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18] if len(ms) > 1 else ms[0]
    return f"p50 {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  max {ms[-1]:7.1f} ms  ({len(ms)} runs)"


async def timed(runs: int, call) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def measure(name: str, url: str, units: int, runs: int) -> None:
    print(f"{name}:")
    await load(url, units)
    engine = make_engine(url)
    db = make_session_factory(engine)

    def figures(day: date, **kw):
        return registry_figures(db, day, timezone=ZONE, roles=ROLES, **kw)

    f = await figures(TODAY, list_expiring=True)
    t = f.total
    print(f"  {TODAY}: {t.units:,} units, {t.eligible:,} eligible, {t.graded:,} graded, "
          f"{t.expiring:,} grades expiring within {f.months} months, {len(f.by_region)} cities")  # fmt: skip
    print(f"  headline: {stats_texts.headline(f.headline)}")
    past = await figures(BEFORE_CHANGES)
    print(f"  {BEFORE_CHANGES} (from history): {past.total.units:,} units, {past.total.graded:,} graded; "
          f"headline: {stats_texts.headline(past.headline)}")  # fmt: skip
    await figures(TODAY)  # warm the database's own caches once, as a running server has them
    print(f"  today, computed afresh:          {quantiles(await timed(runs, lambda: figures(TODAY)))}")
    print(
        f"  a past day, afresh from history: {quantiles(await timed(runs, lambda: figures(BEFORE_CHANGES)))}"
    )
    await figures(TODAY, top=0, cache=FiguresCache())  # the first request computes and stores the snapshot
    print(
        f"  served (shared snapshot):        {quantiles(await timed(runs * 5, lambda: figures(TODAY, top=0, cache=FiguresCache())))}"
    )
    cache = FiguresCache()
    print(
        f"  served (per-process cache):      {quantiles(await timed(runs * 10, lambda: figures(TODAY, top=0, cache=cache)))}"
    )
    await figures(TODAY, top=20, list_expiring=True, cache=cache)  # the console's 统计 page: its first view
    print(
        f"  the console's page (served):     {quantiles(await timed(runs * 10, lambda: figures(TODAY, top=20, list_expiring=True, cache=cache)))}"
    )
    rng = random.Random(5)
    ids = [r.member_id for r in (await figures(TODAY, top=None)).ranking]

    async def place():
        await place_in_ranking(db, rng.choice(ids), TODAY, ZONE)

    print(f"  a unit's place in the ranking:   {quantiles(await timed(runs, place))}")
    await reading_half(db, runs)
    await engine.dispose()


async def reading_half(db, runs: int, articles: int = 1500, days: int = 30) -> None:
    rng = random.Random(3)
    started = time.perf_counter()
    async with db.begin() as s:
        art, day_rows = [], []
        for n in range(articles):
            sent = date(2026, 1, 1) + timedelta(days=n * 360 // articles)
            msgid = f"{100000 + n // 4}_{n % 4 + 1}"
            art.append({"msgid": msgid, "msg_data_id": msgid.split("_")[0], "idx": n % 4 + 1, "sent_on": sent,
                        "title": f"第{n}篇", "content_url": "", "notified": n % 3 > 0})
            day_rows += [{"msgid": msgid, "ref_date": sent + timedelta(days=k), "read_user": rng.randint(0, 40),
                          "share_user": rng.randint(0, 3), "fav_user": rng.randint(0, 2)} for k in range(days)]
        await records.upsert(s, ReadArticle, art)
        await records.upsert(s, ArticleDay, day_rows)
        await records.upsert(s, FollowerDay, [{"ref_date": date(2025, 12, 31) + timedelta(days=k),
                                               "cumulate_user": 40_000 + 5 * k} for k in range(366)])
        await records.upsert(s, FollowerSource, [{"ref_date": date(2026, 1, 1) + timedelta(days=k), "user_source": src,
                                                  "new_user": rng.randint(0, 9), "cancel_user": rng.randint(0, 4)}
                                                 for k in range(365) for src in (0, 1, 30)])
    print(f"  reading: {articles:,} articles × {days} days stored in {time.perf_counter() - started:.1f} s")
    async with db() as s:
        if s.bind.dialect.name == "postgresql":
            # What autovacuum does within a minute of a bulk load; without statistics PostgreSQL plans
            # the joins over the new tables blind (5× slower here).
            await s.execute(text("ANALYZE"))
            await s.commit()
    r = await reading_report(db, 2026)
    print(f"  reading report 2026: {r.years[0].articles:,} articles, {r.years[0].reads:,} reads; "
          f"{reading_texts.headline(r)}")
    print(f"  a year's reading report:         {quantiles(await timed(runs, lambda: reading_report(db, 2026)))}")

    async def page() -> None:  # what the console's 阅读数据 page reads besides the report
        await reading_report(db, 2026)
        await follower_series(db, date(2026, 1, 1), date(2026, 12, 31))
        await push_reads(db, date(2026, 1, 1), date(2026, 12, 31))

    print(f"  the console's 阅读数据 page:       {quantiles(await timed(runs, page))}")


async def with_pg_database(url: str, fn) -> None:
    import asyncpg

    base, _, _ = url.rpartition("/")
    admin = url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"bench_reports_{uuid.uuid4().hex[:8]}"
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
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--pg", metavar="URL", help="also on PostgreSQL (a scratch database is created there)"
    )
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        await measure("SQLite", f"sqlite+aiosqlite:///{tmp}/reports.db", args.units, args.runs)
    if args.pg:
        await with_pg_database(args.pg, lambda url: measure("PostgreSQL", url, args.units, args.runs))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
