"""The reading report as tables with Chinese headers: what `main.py stats report --xlsx` writes (one
sheet per table) and what the console's 阅读数据 page shows and offers for download (the same writer,
to memory)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import IO, Any

from store import xlsx
from store.reading import texts
from store.reading.report import FollowerPoint, PushReads, ReadingReport


def _or_blank(value):
    return "" if value is None else value


def year_table(r: ReadingReport) -> list[list]:
    rows: list[list] = [texts.YEAR_HEADERS]
    for y in r.years:
        rows.append([y.year, y.articles, y.reads, _or_blank(y.mean_reads and round(y.mean_reads, 1)), y.shares,
                     y.favourites, _or_blank(y.followers_before), _or_blank(y.followers_after),
                     y.new_followers, y.cancelled, y.growth])
    return rows


def top_table(r: ReadingReport) -> list[list]:
    rows: list[list] = [texts.TOP_HEADERS]
    for n, a in enumerate(r.top, start=1):
        rows.append([n, a.title, a.sent_on.isoformat(), a.reads, a.shares, a.favourites, _or_blank(a.push_id),
                     a.msgid])
    return rows


def follower_table(points: Sequence[FollowerPoint]) -> list[list]:
    rows: list[list] = [texts.FOLLOWER_HEADERS]
    rows += [[p.day.isoformat(), _or_blank(p.followers), p.new_followers, p.cancelled] for p in points]
    return rows


def push_table(pushes: Sequence[PushReads]) -> list[list]:
    rows: list[list] = [texts.PUSH_HEADERS]
    rows += [[p.sent_on.isoformat(), p.title, p.articles, p.reads, p.shares, p.favourites, _or_blank(p.push_id),
              p.msg_data_id] for p in pushes]
    return rows


def sheets(r: ReadingReport, account: str = "", followers: Sequence[FollowerPoint] | None = None,
           pushes: Sequence[PushReads] | None = None) -> list[tuple[str, list[list]]]:
    """Every table, named as its sheet is: the sentence above the years, the top articles, and (when
    given) the followers day by day and the reads per push."""
    out = [(texts.SHEET_YEARS, [[texts.SUMMARY_ROW, texts.headline(r, account)], [], *year_table(r)]),
           (texts.SHEET_TOP, top_table(r))]
    if followers is not None:
        out.append((texts.SHEET_FOLLOWERS, follower_table(followers)))
    if pushes is not None:
        out.append((texts.SHEET_PUSHES, push_table(pushes)))
    return out


def write_xlsx(target: Path | IO[bytes], r: ReadingReport, account: str = "", *, only: str | None = None,
               followers: Sequence[FollowerPoint] | None = None, pushes: Sequence[PushReads] | None = None) -> None:
    """One sheet per table (sheets), or only the one named `only` (blocking: run it in a thread)."""
    xlsx.write(target, xlsx.pick(sheets(r, account, followers, pushes), only))


def as_json(r: ReadingReport, account: str = "") -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return {"headline_text": texts.headline(r, account), **plain(asdict(r))}
