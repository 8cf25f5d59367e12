"""Polled sources: each `[[sources]]` entry with `poll` has one state row (its conditional-request
validators, its run of failures and back-off, and the lease of the process polling it now) and one
row per poll run (what was found, added, updated and failed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, utcnow


class SourceState(Base):
    __tablename__ = "source_states"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The listing's validators from its last 200 answer, sent back as If-None-Match / If-Modified-Since.
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    # Consecutive failed runs; the next poll waits longer with each (scheduler/sources.py says how).
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column()
    # A lease: the process polling the source now, and until when (a dead process's lease expires).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_until: Mapped[datetime | None] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()
    last_ok_at: Mapped[datetime | None] = mapped_column()


class SourceRun(Base):
    __tablename__ = "source_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    worker: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    # The listing answered 304: nothing changed, nothing else fetched.
    not_modified: Mapped[bool] = mapped_column(Boolean, default=False)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    found: Mapped[int] = mapped_column(Integer, default=0)  # links not seen before
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)  # joined a push (on_new = "queue")
    # Why the run failed (the listing could not be read), or what went wrong beside it, in words.
    error: Mapped[str | None] = mapped_column(Text)
