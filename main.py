"""The one entry point: `python main.py COMMAND --help` explains each command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from sqlalchemy.exc import DBAPIError

from bot.config import ConfigError, load_settings

# Each module adds its commands with `register(subparsers)`; a command sets `func(args, settings)`.
COMMAND_MODULES = [
    "bot.cli",
    "sandbox.cli",
    "bot.cli_menu",
    "bot.cli_webhook",
    "store.members.cli",
    "store.content.cli",
    "scheduler.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py", description="WeChat official-account bot of the federation."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.toml", help="settings file (default: config.toml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run of every job at INFO; our own scheduler log says what matters.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        return args.func(args, settings) or 0
    except DBAPIError as e:
        # The usual cause on a fresh checkout: a command run before the database was created.
        text = str(e.orig)
        if "no such table" in text or "does not exist" in text:
            print(f"error: the database is not at the latest schema ({text}); run "
                  f"`python main.py db upgrade --config {args.config}` first", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
