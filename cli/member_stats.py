"""`main.py members stats [--on DATE] [--by region|kind|role] [--json] [--xlsx FILE]`: the registry's
figures for editors (store/members/stats.py computes them; the follower reply and the console show
the same figures)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from cli.run import with_services
from core.services import Services
from store.members import stats_tables
from store.members import stats_texts as texts
from store.members.stats import DEFAULT_MONTHS, DEFAULT_TOP, RegistryFigures, day_asked, registry_figures
from store.members.status import local_today
from store.members.texts import CLI_FILE_ERROR, file_problem


def register(msub, common: argparse.ArgumentParser) -> None:
    p = msub.add_parser(
        "stats", parents=[common], help=texts.CLI_STATS_HELP, description=texts.CLI_STATS_HELP
    )
    p.add_argument("--on", metavar="DATE", help=texts.CLI_ON)
    p.add_argument("--by", choices=stats_tables.BY, default="kind", help=texts.CLI_BY)
    p.add_argument("--months", type=int, default=DEFAULT_MONTHS, metavar="N", help=texts.CLI_MONTHS)
    p.add_argument("--top", type=int, default=DEFAULT_TOP, metavar="N", help=texts.CLI_TOP)
    p.add_argument("--json", action="store_true", help=texts.CLI_JSON)
    p.add_argument("--xlsx", type=Path, metavar="FILE", help=texts.CLI_XLSX)
    p.set_defaults(func=with_services(run))


async def run(args, services: Services) -> int:
    settings = services.settings
    zone = settings.scheduler.timezone
    try:
        day = day_asked(args.on, local_today(services.clock.now(), zone))
        if args.months < 0 or args.top < 0:
            raise ValueError(texts.CLI_BAD_NUMBER)
    except ValueError as e:
        print(e)
        return 2
    figures = await registry_figures(
        services.db,
        day,
        timezone=zone,
        roles=settings.members.roles,
        months=args.months,
        top=None if args.xlsx else args.top,  # the workbook holds the whole ranking
        list_expiring=True,
    )
    if args.xlsx:
        try:
            await asyncio.to_thread(stats_tables.write_xlsx, args.xlsx, figures)
        except OSError as e:
            print(CLI_FILE_ERROR.format(file=args.xlsx, error=file_problem(e)))
            return 2
    if args.json:
        print(json.dumps(stats_tables.as_json(figures), ensure_ascii=False, indent=2))
    else:
        print(report(figures, args.by, args.top))
    if args.xlsx:  # beside JSON, on stderr: stdout stays one JSON document
        print(texts.CLI_WROTE.format(file=args.xlsx), file=sys.stderr if args.json else sys.stdout)
    return 0


def _width(text: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def _table(rows: list[list]) -> list[str]:
    """Columns padded to their widest cell (a Chinese character takes two columns)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(cells[0]))]
    return ["  " + "  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in cells]  # fmt: skip


def report(f: RegistryFigures, by: str, top: int) -> str:
    """The figures as the command prints them."""
    t = f.total
    lines = [
        texts.CLI_TITLE.format(day=texts.day(f.on)),
        texts.headline(f.headline),
        texts.CLI_TOTALS.format(units=t.units, eligible=t.eligible, graded=t.graded),
        texts.CLI_ELIGIBILITY,
        *(
            texts.CLI_ELIGIBILITY_LINE.format(label=texts.ELIGIBILITY[k], n=n)
            for k, n in f.eligibility.items()
            if n
        ),
        texts.CLI_GRADES.format(
            grades="、".join(f"{g} {n} 家" for g, n in t.grades.items()),
            expired=t.expired,
            ungraded=t.ungraded,
        ),
        "",
        texts.CLI_BY_TITLE[by] + "：",
        *_table(stats_tables.group_table(f, by)),
        "",
        texts.CLI_EXPIRING.format(months=f.months, n=t.expiring),
    ]
    expiring = f.expiring_units or []
    for e in expiring[: texts.CLI_EXPIRING_SHOWN]:
        lines.append(texts.CLI_EXPIRING_LINE.format(
            expires=e.expires_on.isoformat(), grade=e.grade, year=e.grade_year, name=e.name))  # fmt: skip
    if len(expiring) > texts.CLI_EXPIRING_SHOWN:
        lines.append(texts.CLI_MORE.format(n=len(expiring)))
    shown = f.ranking[:top]
    lines += ["", texts.CLI_RANKING.format(n=len(shown))]
    for r in shown:
        lines.append(texts.CLI_RANKING_LINE.format(
            place=r.place, grade=r.grade or texts.CLI_NO_GRADE, evaluations=r.evaluations,
            year=r.latest_year or texts.CLI_NONE, name=r.name))  # fmt: skip
    return "\n".join(lines)
