"""A member table uploaded through a browser: kept on disk under a token (the sha256 of its bytes),
so that the dry run an editor reads and the import they then apply are of the very same file.
The checking and writing are the importer's (store/members/importer.py), as for `members import`."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from store.db import SessionFactory
from store.members import texts
from store.members.importer import ImportReport, import_file
from store.members.table import ImportFileError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a registry of 100,000 units is about 8 MB as xlsx
SUFFIXES = (".csv", ".xlsx", ".xlsm")
_TOKEN = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Staged:
    token: str
    filename: str  # as the editor's computer named it (made safe for the disk)
    path: Path


def _safe_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name.strip() or "members"
    return re.sub(r"[^\w.\-（）()]+", "_", name)[-120:]


def stage(directory: Path, data: bytes, filename: str) -> Staged:
    """Keep an uploaded table for its dry run and its import. Blocking (run it in a thread).
    ImportFileError when it is not a table the importer reads, or too large."""
    name = _safe_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportFileError(texts.import_bad_suffix(suffix or filename))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(texts.UPLOAD_TOO_LARGE.format(mb=MAX_UPLOAD_BYTES // (1024 * 1024)))
    if not data:
        raise ImportFileError(texts.IMPORT_EMPTY)
    token = hashlib.sha256(data).hexdigest()[:32]
    folder = directory / token
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        path.write_bytes(data)
    return Staged(token, name, path)


def find_staged(directory: Path, token: str) -> Staged | None:
    """The table staged under `token`, or None (unknown token, or not a token at all). Blocking."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    folder = directory / token
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    if not files:
        return None
    return Staged(token, files[0].name, files[0])


async def import_staged(
    db: SessionFactory,
    directory: Path,
    token: str,
    now: datetime,
    today: date,
    roles: Sequence[str],
    dry_run: bool,
) -> ImportReport:
    """The dry run (or the import) of a staged table; ImportFileError when the token names none."""
    staged = await asyncio.to_thread(find_staged, directory, token)
    if staged is None:
        raise ImportFileError(texts.UPLOAD_GONE)
    report = await import_file(db, staged.path, now, today, roles, dry_run=dry_run)
    report.path = staged.filename
    return report
