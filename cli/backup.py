"""`main.py db backup FILE` and `db restore FILE [--force]`, over ops/backup.py. Neither opens the
services: a backup reads the database beside a running `serve`, and a restore may find no
database at all."""

from __future__ import annotations

import argparse
import asyncio
import sys

from cli import texts
from core.config import Settings
from ops import backup
from ops import texts as ops_texts


def register(dbsub, common: argparse.ArgumentParser) -> None:
    p = dbsub.add_parser("backup", parents=[common], help=texts.DB_BACKUP_HELP)
    p.add_argument("file", help=texts.DB_BACKUP_FILE)
    p.set_defaults(func=_backup)
    r = dbsub.add_parser("restore", parents=[common], help=texts.DB_RESTORE_HELP)
    r.add_argument("file", help=texts.DB_RESTORE_FILE)
    r.add_argument("--force", action="store_true", help=texts.DB_RESTORE_FORCE)
    r.set_defaults(func=_restore)


def _backup(args, settings: Settings) -> int:
    try:
        done = asyncio.run(backup.backup(settings, args.file))
    except backup.BackupError as e:
        print(texts.error(e), file=sys.stderr)
        return 1
    print(ops_texts.BACKUP_DONE.format(path=done.path, kind=done.kind, size=ops_texts.size(done.database_bytes),
                                       media=done.media, taken_at=done.taken_at))
    return 0


def _restore(args, settings: Settings) -> int:
    try:
        done = asyncio.run(backup.restore(settings, args.file, force=args.force))
    except backup.BackupError as e:
        print(texts.error(e), file=sys.stderr)
        return 1
    print(ops_texts.RESTORE_DONE.format(path=done.path, kind=done.kind, media=done.media, taken_at=done.taken_at))
    return 0
