"""The reading report as tables with Chinese headers: what `main.py stats report --xlsx` writes (one
sheet per table) and what the console will show and offer for download."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from store.reading import texts
from store.reading.report import ReadingReport


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


def write_xlsx(path: Path, r: ReadingReport, account: str = "") -> None:
    """One sheet per table, the sentence above the years (blocking: run it in a thread)."""
    from openpyxl import Workbook

    wb = Workbook()
    years = wb.active
    years.title = texts.SHEET_YEARS
    years.append([texts.SUMMARY_ROW, texts.headline(r, account)])
    years.append([])
    for row in year_table(r):
        years.append(row)
    top = wb.create_sheet(texts.SHEET_TOP)
    for row in top_table(r):
        top.append(row)
    wb.save(path)


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
