"""The registry's figures as tables with Chinese headers: what `main.py members stats` prints, what
its `--xlsx` writes (one sheet per table), and what the console's 统计 page shows and offers for
download (the same writer, to memory)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import IO, Any

from store import xlsx
from store.members import stats_texts as texts
from store.members.stats import RegistryFigures, Tally

BY = ("kind", "role", "region")


def _counts(t: Tally) -> list[int]:
    return [t.units, t.eligible, t.graded, *t.grades.values(), t.expired, t.ungraded, t.expiring]


def group_table(f: RegistryFigures, by: str) -> list[list]:
    """The units by kind, role or region (city, then its counties), with a total row."""
    header = [*texts.GROUP_HEADERS[by], *texts.tally_headers(f.months)]
    rows: list[list] = [header]
    if by == "region":
        for city in f.by_region:
            rows.append([texts.region_label(city.label), "", *_counts(city)])
            if any(c.label for c in city.counties):
                for county in city.counties:
                    rows.append(["", texts.county_label(county.label), *_counts(county)])
        rows.append([texts.ALL_UNITS, "", *_counts(f.total)])
    else:
        for t in f.by_kind if by == "kind" else f.by_role:
            rows.append([t.label, *_counts(t)])
        rows.append([texts.ALL_UNITS, *_counts(f.total)])
    return rows


def summary_table(f: RegistryFigures) -> list[list]:
    h, s = f.headline, texts.SUMMARY_ROWS
    rows = [
        texts.SUMMARY_HEADERS,
        [s["on"], f.on.isoformat()],
        [s["headline"], texts.headline(h)],
        [s["units"], f.total.units],
        [s["eligible"], h.eligible],
        [s["graded"], h.graded],
        [s["grade_5a"], h.grade_5a],
        [s["grade_4a"], h.grade_4a],
        [s["percent"], "" if h.percent is None else h.percent],
        [s["expiring"].format(months=f.months), f.total.expiring],
    ]
    rows += [[texts.ELIGIBILITY[k], n] for k, n in f.eligibility.items()]
    return rows


def expiring_table(f: RegistryFigures) -> list[list]:
    rows: list[list] = [texts.EXPIRING_HEADERS]
    rows += [[e.name, e.grade, e.grade_year, e.expires_on.isoformat()] for e in f.expiring_units or ()]
    return rows


def ranking_table(f: RegistryFigures) -> list[list]:
    rows: list[list] = [texts.RANKING_HEADERS]
    rows += [[r.place, r.name, r.grade or "", r.evaluations, r.latest_year or ""] for r in f.ranking]
    return rows


def sheets(f: RegistryFigures) -> list[tuple[str, list[list]]]:
    """Every table, named as its sheet is."""
    out = [(texts.SHEET_SUMMARY, summary_table(f))]
    out += [(texts.SHEET_BY[by], group_table(f, by)) for by in BY]
    if f.expiring_units is not None:
        out.append((texts.SHEET_EXPIRING, expiring_table(f)))
    out.append((texts.SHEET_RANKING, ranking_table(f)))
    return out


def write_xlsx(target: Path | IO[bytes], f: RegistryFigures, only: str | None = None) -> None:
    """One sheet per table, or only the sheet named `only` (blocking: run it in a thread)."""
    xlsx.write(target, xlsx.pick(sheets(f), only))


def as_json(f: RegistryFigures) -> dict[str, Any]:
    """The figures as plain data (dates as ISO text), the headline sentence included."""

    def plain(value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return {"headline_text": texts.headline(f.headline), **plain(asdict(f))}
