"""The registry's figures computed once for all processes: a snapshot per (registry version, day,
options) in `member_figure_snapshots`, as JSON. Computing them afresh over a large registry takes a
second (the history rebuilt, every unit grouped and ranked); reading a snapshot takes milliseconds.
A snapshot is never wrong: the registry version is in its key, and every import, retirement or edit
bumps it (store/members/index.py bump_version), so the next request computes and stores the new
version's figures, and writing them drops the older versions' rows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.members.ranking import Ranked
from store.models.members import FigureSnapshot


def key_of(version: int, options: tuple) -> str:
    digest = hashlib.sha256(repr(options).encode()).hexdigest()[:40]
    return f"{version}:{digest}"


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


async def load(session: AsyncSession, key: str):
    """The figures stored under `key`, or None."""
    text = await session.scalar(select(FigureSnapshot.figures).where(FigureSnapshot.key == key))
    return None if text is None else _figures(json.loads(text))


async def save(session: AsyncSession, key: str, version: int, figures, now: datetime) -> None:
    """Store the figures (a second writer of the same key changes nothing) and drop older versions'."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    text = json.dumps(asdict(figures), ensure_ascii=False, default=_plain)
    await session.execute(insert(FigureSnapshot).values(key=key, version=version, figures=text, computed_at=now)
                          .on_conflict_do_nothing(index_elements=["key"]))
    await session.execute(delete(FigureSnapshot).where(FigureSnapshot.version < version))


def _figures(d: dict):
    from store.members.stats import Expiring, Headline, RegionTally, RegistryFigures, Tally

    def tally(t: dict, cls=Tally):
        return cls(**t)

    def region(t: dict) -> RegionTally:
        return RegionTally(**{**t, "counties": [tally(c) for c in t["counties"]]})

    expiring = d["expiring_units"]
    return RegistryFigures(
        on=date.fromisoformat(d["on"]), months=d["months"], total=tally(d["total"]),
        eligibility=d["eligibility"], by_kind=[tally(t) for t in d["by_kind"]],
        by_role=[tally(t) for t in d["by_role"]], by_region=[region(t) for t in d["by_region"]],
        headline=Headline(**d["headline"]), ranking=[Ranked(**r) for r in d["ranking"]],
        expiring_units=None if expiring is None else [
            Expiring(**{**e, "expires_on": date.fromisoformat(e["expires_on"])}) for e in expiring])
