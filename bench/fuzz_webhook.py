"""The long form of tests/test_webhook_fuzz.py: many hostile messages with valid signatures through
the real webhook, each followed by a normal follower's message that must be answered and logged.

    .venv/bin/python bench/fuzz_webhook.py                          # 2,000 cases per mode, SQLite
    .venv/bin/python bench/fuzz_webhook.py --examples 20000 --modes safe \\
        --database postgresql+asyncpg://root@127.0.0.1:5432/fuzz    # an empty database, migrated here

Prints, per mode, how many cases got which status and how long they took; stops at the first case
that breaks a rule (hypothesis then shrinks it and prints the smallest body that does).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given  # noqa: E402
from hypothesis import settings as hsettings  # noqa: E402

from core.config import parse_settings  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from tests.conftest import base_config  # noqa: E402
from tests.webhook_fuzzing import FuzzRun, hostile_message  # noqa: E402
from tests.webhook_helpers import webhook_client  # noqa: E402
from tests.webhook_support import make_services  # noqa: E402


def fuzz(mode: str, examples: int, database: str | None, tmp: Path) -> None:
    url = database or f"sqlite+aiosqlite:///{tmp / f'fuzz-{mode}.db'}"

    def make_settings(**sections):
        return parse_settings(base_config(tmp, **sections), base_dir=tmp, environ={})

    loop = asyncio.new_event_loop()
    loop.run_until_complete(upgrade(url))
    services_cm = make_services(make_settings, url, wechat={"mode": mode})
    services = loop.run_until_complete(services_cm.__aenter__())
    hook_cm = webhook_client(services)
    hook = loop.run_until_complete(hook_cm.__aenter__())
    run = FuzzRun(hook, services, mode)

    @hsettings(max_examples=examples, deadline=None, database=None,
               suppress_health_check=list(HealthCheck))
    @given(body=hostile_message())
    def one(body: bytes) -> None:
        loop.run_until_complete(run.case(body))

    started = time.monotonic()
    try:
        one()
    finally:
        elapsed = time.monotonic() - started
        loop.run_until_complete(hook_cm.__aexit__(None, None, None))
        loop.run_until_complete(services_cm.__aexit__(None, None, None))
        loop.close()
    cases = sum(run.statuses.values())
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(run.statuses.items()))
    print(f"{mode:5} {cases} cases in {elapsed:.1f} s ({cases / elapsed:.0f}/s, each with a normal message "
          f"after it) — {statuses}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=2000, help="cases per mode (default 2000)")
    parser.add_argument("--modes", nargs="+", default=["plain", "safe"], choices=["plain", "safe"])
    parser.add_argument("--database", help="an empty PostgreSQL database URL (default: a SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            fuzz(mode, args.examples, args.database, Path(tmp))


if __name__ == "__main__":
    main()
