"""What the polled sources have done: each source's state and its latest runs (scheduler/sources.py
writes them), for `main.py news sources` and the console."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from store.db import SessionFactory
from store.models.sources import SourceRun, SourceState


@dataclass
class SourceOverview:
    name: str
    state: SourceState | None  # None: never polled
    runs: list[SourceRun]  # newest first


async def source_overview(db: SessionFactory, names: list[str], runs: int = 5) -> list[SourceOverview]:
    out = []
    async with db() as s:
        for name in names:
            state = await s.get(SourceState, name)
            rows = (await s.scalars(select(SourceRun).where(SourceRun.source == name)
                                    .order_by(SourceRun.id.desc()).limit(runs))).all()
            out.append(SourceOverview(name, state, list(rows)))
    return out
