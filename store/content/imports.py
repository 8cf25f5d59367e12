"""Imports an editor starts and watches: `run_import` (what `main.py news import` runs too), an
uploaded HTML page kept as a file to import, and one process's recent imports running in the
background with their progress and, at the end, their report (the console's 导入 page polls them)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import aiohttp

from core.clock import Clock
from core.config import Settings
from store.content import texts
from store.content.importer import Importer, ImportProgress, ImportReport
from store.db import SessionFactory

log = logging.getLogger(__name__)

MAX_HTML_BYTES = 5 * 1024 * 1024
KEEP = 20  # finished imports a process remembers


async def run_import(
    settings: Settings, db: SessionFactory, clock: Clock, target: str, *, source: str | None = None,
    pages: int | None = None, since: date | None = None, progress: bool = False,
    on_progress=None,
) -> ImportReport:
    """Import a listing or article URL, a saved HTML file or a folder (store/content/importer.py).
    ValueError for a `source` the config does not name."""
    async with aiohttp.ClientSession() as http:
        importer = Importer(settings, db, clock, http, progress=progress, on_progress=on_progress)
        return await importer.run(target, source=source, pages=pages, since=since)


def stage_html(directory: Path, data: bytes, filename: str) -> Path:
    """Keep an uploaded HTML page as a file the importer reads (blocking). ValueError when it is not
    one, or too large."""
    name = re.sub(r"[^\w.\-]+", "_", Path(filename.replace("\\", "/")).name)[-100:] or "page.html"
    if Path(name).suffix.lower() not in (".html", ".htm"):
        raise ValueError(texts.UPLOAD_NOT_HTML)
    if not data or len(data) > MAX_HTML_BYTES:
        raise ValueError(texts.UPLOAD_SIZE.format(mb=MAX_HTML_BYTES // (1024 * 1024)))
    folder = directory / hashlib.sha256(data).hexdigest()[:32]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


@dataclass
class ImportJob:
    id: str
    target: str  # as the editor gave it (an uploaded file: its name)
    by: str
    started_at: datetime
    progress: ImportProgress = field(default_factory=ImportProgress)
    report: ImportReport | None = None
    error: str | None = None  # the import could not run at all
    task: asyncio.Task | None = None

    @property
    def done(self) -> bool:
        return self.report is not None or self.error is not None


class ImportJobs:
    """One process's imports in the background (newest first), each with its progress as it runs."""

    def __init__(self, settings: Settings, db: SessionFactory, clock: Clock) -> None:
        self.settings, self.db, self.clock = settings, db, clock
        self.jobs: dict[str, ImportJob] = {}

    def start(self, target: str, by: str, *, shown: str | None = None, source: str | None = None,
              pages: int | None = None) -> ImportJob:
        job = ImportJob(secrets.token_hex(8), shown or target, by, self.clock.now())
        job.task = asyncio.create_task(self._run(job, target, source, pages), name=f"import-{job.id}")
        self.jobs = {job.id: job, **self.jobs}
        for old in [j for j in self.jobs.values() if j.done][KEEP:]:
            del self.jobs[old.id]
        return job

    async def _run(self, job: ImportJob, target: str, source: str | None, pages: int | None) -> None:
        def seen(state: ImportProgress) -> None:
            job.progress = state

        try:
            job.report = await run_import(self.settings, self.db, self.clock, target, source=source, pages=pages,
                                          on_progress=seen)
        except ValueError:
            known = "、".join(s.name for s in self.settings.sources) or texts.NO_SOURCES
            job.error = texts.UNKNOWN_SOURCE.format(name=source, known=known)
        except Exception as e:  # said on the page; the import's own failures are in its report
            log.exception("import of %s failed", target)
            job.error = texts.IMPORT_CRASHED.format(error=f"{type(e).__name__}: {e}")

    def get(self, job_id: str) -> ImportJob | None:
        return self.jobs.get(job_id)

    def recent(self) -> list[ImportJob]:
        return list(self.jobs.values())

    async def aclose(self) -> None:
        """Stop what still runs (the process is stopping: a re-import later picks it up unchanged)."""
        running = [j.task for j in self.jobs.values() if j.task and not j.task.done()]
        for t in running:
            t.cancel()
        await asyncio.gather(*running, return_exceptions=True)
