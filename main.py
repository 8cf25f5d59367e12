"""The one entry point: `python main.py COMMAND --help` explains each command."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time

from sqlalchemy.exc import DBAPIError

from cli import texts
from core.config import ConfigError, load_settings

# Each module adds its commands with `register(subparsers)`; a command sets `func(args, settings)`.
COMMAND_MODULES = [
    "cli.serve",
    "cli.sandbox",
    "cli.menu",
    "cli.keywords",
    "cli.log",
    "cli.members",
    "cli.news",
    "cli.push",
    "cli.editors",
]


def _translated(message: str) -> str:
    return texts.ARGPARSE.get(message, message)


def build_parser() -> argparse.ArgumentParser:
    # argparse takes its own words (usage, options, its errors) from gettext, which has no Chinese
    # catalogue for it: this is that catalogue. Words it does not list stay as argparse wrote them.
    argparse._ = _translated  # type: ignore[attr-defined]
    argparse.ngettext = lambda one, many, n: _translated(one if n == 1 else many)  # type: ignore[attr-defined]
    parser = argparse.ArgumentParser(prog="main.py", description=texts.PROGRAM)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.toml", help=texts.CONFIG_OPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def configure_logging() -> None:
    """Log lines carry their time in UTC and say so (the machine's zone is nobody's business); our
    loggers at INFO, the libraries that narrate every step at WARNING."""
    handler = logging.StreamHandler()
    formatter = logging.Formatter(
        "%(asctime)s.%(msecs)03d UTC %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # APScheduler logs every run of every job, Alembic every step of every migration.
    for name in ("apscheduler", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        print(texts.error(e), file=sys.stderr)
        return 2
    try:
        code = args.func(args, settings) or 0
        sys.stdout.flush()  # here, not at exit: a reader that stopped early is handled below
        return code
    except BrokenPipeError:
        # `members list | head`: the reader had enough. Not an error; nothing more to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except DBAPIError as e:
        # The usual cause on a fresh checkout: a command run before the database was created.
        text = str(e.orig)
        if "no such table" in text or "does not exist" in text:
            print(texts.error(texts.NOT_MIGRATED.format(detail=text, config=args.config)), file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
