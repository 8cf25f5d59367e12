"""`main.py stats fetch [--since DATE]` and `main.py stats report [--year YEAR] [--since YEAR]
[--top N] [--json] [--xlsx FILE]`: the account's reading figures (scheduler/reading.py fetches them,
store/reading/report.py reports them; the console shows the same report)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path

from cli.run import with_services
from core.services import Services
from scheduler import reading
from store.members.status import local_today
from store.members.texts import CLI_FILE_ERROR, file_problem
from store.reading import tables, texts
from store.reading.report import DEFAULT_TOP, ReadingReport, reading_report


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("stats", parents=[common], help=texts.CLI_STATS_HELP, description=texts.CLI_STATS_HELP)
    ssub = p.add_subparsers(dest="stats_command", required=True, metavar="ACTION")
    f = ssub.add_parser("fetch", parents=[common], help=texts.CLI_FETCH_HELP, description=texts.CLI_FETCH_HELP)
    f.add_argument("--since", metavar="DATE", help=texts.CLI_SINCE_DAY)
    f.set_defaults(func=with_services(fetch))
    r = ssub.add_parser("report", parents=[common], help=texts.CLI_REPORT_HELP, description=texts.CLI_REPORT_HELP)
    r.add_argument("--year", type=int, metavar="YEAR", help=texts.CLI_YEAR)
    r.add_argument("--since", type=int, metavar="YEAR", help=texts.CLI_SINCE_YEAR)
    r.add_argument("--top", type=int, default=DEFAULT_TOP, metavar="N", help=texts.CLI_TOP)
    r.add_argument("--json", action="store_true", help=texts.CLI_JSON)
    r.add_argument("--xlsx", type=Path, metavar="FILE", help=texts.CLI_XLSX)
    r.set_defaults(func=with_services(report))


async def fetch(args, services: Services) -> int:
    since = None
    if args.since:
        try:
            since = date.fromisoformat(args.since.strip())
        except ValueError:
            print(texts.CLI_BAD_DAY.format(text=args.since))
            return 2
    r = await reading.fetch(services, since=since)
    if r.busy:
        print(texts.CLI_BUSY)
        return 1
    if not r.calls and not r.errors:
        print(texts.CLI_NOTHING.format(last=r.last.isoformat()))
        return 0
    print(texts.CLI_FETCHED.format(first=r.first.isoformat(), last=r.last.isoformat(), calls=r.calls,
                                   rows=sum(r.rows.values())))
    for endpoint, rows in r.rows.items():
        print(texts.CLI_FETCH_ROWS.format(endpoint=endpoint, rows=rows))
    if r.refused:
        print(texts.CLI_REFUSED.format(days="、".join(f"{e} {d.isoformat()}" for e, d in r.refused)))
    if r.not_ready:
        print(texts.CLI_NOT_READY.format(names="、".join(r.not_ready)))
    if r.linked:
        print(texts.CLI_LINKED.format(n=r.linked))
    if r.more:
        print(texts.CLI_MORE)
    if r.errors:
        print(texts.CLI_ERRORS)
        for e in r.errors:
            print(f"    {e}")
        return 1
    return 0


async def report(args, services: Services) -> int:
    year = args.year or local_today(services.clock.now(), services.settings.scheduler.timezone).year
    if args.since is not None and args.since > year:
        print(texts.CLI_BAD_YEARS)
        return 2
    r = await reading_report(services.db, year, since=args.since, top=max(0, args.top))
    account = services.settings.wechat.display_name
    if args.xlsx:
        try:
            await asyncio.to_thread(tables.write_xlsx, args.xlsx, r, account)
        except OSError as e:
            print(CLI_FILE_ERROR.format(file=args.xlsx, error=file_problem(e)))
            return 2
    if args.json:
        print(json.dumps(tables.as_json(r, account), ensure_ascii=False, indent=2))
    else:
        print(text(r, account))
    if args.xlsx:
        print(texts.CLI_WROTE.format(file=args.xlsx), file=sys.stderr if args.json else sys.stdout)
    return 0


def _n(value) -> str:
    return texts.CLI_UNKNOWN if value is None else str(value)


def text(r: ReadingReport, account: str = "") -> str:
    """The report as the command prints it."""
    lines = [texts.CLI_TITLE.format(span=texts.span(r)), texts.headline(r, account)]
    for y in r.years:
        lines.append(texts.CLI_YEAR_LINE.format(
            year=y.year, articles=y.articles, reads=y.reads,
            mean=texts.CLI_UNKNOWN if y.mean_reads is None else f"{y.mean_reads:.1f}", shares=y.shares,
            favourites=y.favourites, before=_n(y.followers_before), after=_n(y.followers_after),
            new=y.new_followers, cancelled=y.cancelled, growth=y.growth))  # fmt: skip
    if r.top:
        lines += ["", texts.CLI_TOP_TITLE.format(n=len(r.top))]
        lines += [texts.CLI_TOP_LINE.format(n=n, reads=a.reads, sent_on=a.sent_on.isoformat(), title=a.title)
                  for n, a in enumerate(r.top, start=1)]
    return "\n".join(lines)
