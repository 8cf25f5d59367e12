"""`main.py db backup FILE` and `db restore FILE`: the database and the media folder in one tar file.

    manifest.json      what the backup holds: the database's kind, when the backup began (UTC)
    database.sqlite    SQLite: a consistent copy by SQLite's online backup API, taken while `serve`
                       writes (WAL: the writers are not held up; the copy is the database as of the
                       moment it began)
    database.pgdump    PostgreSQL: `pg_dump --format=custom` (one snapshot of the whole database)
    media/…            `[content] media_dir`: the imported images the articles point at

A restore refuses to overwrite a database that already holds the bot's tables unless told to
(`force`). SQLite is restored through the same backup API, so a `serve` still connected sees the
restored database; PostgreSQL through `pg_restore --clean` (stop `serve` first: it holds locks
the restore waits for). The password of a PostgreSQL URL goes to the tools in PGPASSWORD, never
on a command line."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from core.config import Settings
from ops import texts
from store.db import is_sqlite

FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done, said in words for the operator."""


@dataclass(frozen=True)
class Outcome:
    path: str
    kind: str  # sqlite | postgresql
    database_bytes: int
    media: int
    taken_at: str


def _kind(settings: Settings) -> str:
    return "sqlite" if is_sqlite(settings.database_url) else "postgresql"


def sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.split("///", 1)[1])


def _pg(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools, and their environment (the password)."""
    url = make_url(settings.database_url)
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432), "--dbname", url.database or ""]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


async def _tool(tool: str, args: list[str], env: dict[str, str]) -> None:
    if shutil.which(tool) is None:
        raise BackupError(texts.TOOL_MISSING.format(tool=tool))
    proc = await asyncio.create_subprocess_exec(tool, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    _out, err = await proc.communicate()
    if proc.returncode:
        raise BackupError(texts.TOOL_FAILED.format(tool=tool, code=proc.returncode,
                                                   detail=err.decode(errors="replace").strip()[-500:]))


def _sqlite_copy(src: Path, dst: Path) -> None:
    """SQLite's online backup API: the whole database as of the moment it began, in one step."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _media_files(settings: Settings) -> list[Path]:
    root = settings.path(settings.content.media_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


async def backup(settings: Settings, path: str | Path) -> Outcome:
    """Write the backup to `path` (a temporary file first, renamed when complete)."""
    path = Path(path)
    kind = _kind(settings)
    taken_at = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="wxbot-backup-") as tmp:
        db_file = Path(tmp) / ("database.sqlite" if kind == "sqlite" else "database.pgdump")
        if kind == "sqlite":
            await asyncio.to_thread(_sqlite_copy, sqlite_path(settings), db_file)
        else:
            args, env = _pg(settings)
            await _tool("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", "--file",
                                    str(db_file), *args], env)
        media = _media_files(settings)
        manifest = {"format": FORMAT, "database": kind, "taken_at": taken_at, "media": len(media)}
        partial = path.with_name(path.name + ".partial")
        await asyncio.to_thread(_write_tar, partial, manifest, db_file, media,
                                settings.path(settings.content.media_dir))
        partial.replace(path)
        return Outcome(str(path), kind, db_file.stat().st_size, len(media), taken_at)


def _write_tar(path: Path, manifest: dict, db_file: Path, media: list[Path], media_root: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        data = json.dumps(manifest, ensure_ascii=False).encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        tar.add(db_file, db_file.name)
        for f in media:
            tar.add(f, "media/" + f.relative_to(media_root).as_posix())


def read_manifest(path: str | Path) -> dict:
    try:
        with tarfile.open(path) as tar:
            member = tar.extractfile("manifest.json")
            manifest = json.loads(member.read()) if member else None
    except (OSError, KeyError, tarfile.TarError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(texts.NOT_A_BACKUP.format(path=path))
    return manifest


def _sqlite_tables(path: Path) -> int:
    if not path.exists() or path.stat().st_size == 0:
        return 0
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    finally:
        con.close()


async def _pg_tables(settings: Settings) -> int:
    import asyncpg

    url = make_url(settings.database_url)
    con = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                password=url.password, database=url.database)
    try:
        return await con.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await con.close()


def _sqlite_restore(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(dst, timeout=30)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


async def restore(settings: Settings, path: str | Path, force: bool = False) -> Outcome:
    """Put the backup at `path` in place of the configured database, and its media files in
    `[content] media_dir` (files of the same name replaced, others left)."""
    manifest = read_manifest(path)
    kind = _kind(settings)
    if manifest["database"] != kind:
        raise BackupError(texts.KIND_MISMATCH.format(found=manifest["database"], configured=kind))
    tables = (await asyncio.to_thread(_sqlite_tables, sqlite_path(settings)) if kind == "sqlite"
              else await _pg_tables(settings))
    if tables and not force:
        raise BackupError(texts.LIVE_DATABASE.format(what=f"{tables} 张表"))
    media_root = settings.path(settings.content.media_dir)
    with tempfile.TemporaryDirectory(prefix="wxbot-restore-") as tmp:
        with tarfile.open(path) as tar:
            await asyncio.to_thread(tar.extractall, tmp, filter="data")
        db_file = Path(tmp) / ("database.sqlite" if kind == "sqlite" else "database.pgdump")
        if kind == "sqlite":
            await asyncio.to_thread(_sqlite_restore, db_file, sqlite_path(settings))
        else:
            args, env = _pg(settings)
            await _tool("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges",
                                       "--single-transaction", *args, str(db_file)], env)
        media = Path(tmp) / "media"
        count = 0
        if media.is_dir():
            for f in media.rglob("*"):
                if f.is_file():
                    target = media_root / f.relative_to(media)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, target)
                    count += 1
        return Outcome(str(path), kind, db_file.stat().st_size, count, manifest["taken_at"])
