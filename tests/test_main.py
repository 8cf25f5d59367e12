"""`main.py` as a process, the way `make run` and a shell use it: quiet migrations, log lines in UTC
that say so, and a reader that stops early (`members list | head`) is not an error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "TZ": "Asia/Shanghai"}  # a machine not in UTC: the logs must still say UTC
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kw}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, text=True, timeout=60, **streams)


def test_db_upgrade_prints_one_line_and_no_alembic_chatter(cli):
    config = cli.tmp / "fresh.toml"
    config.write_text(cli.config.read_text(encoding="utf-8").replace("cli.db", "fresh.db"), encoding="utf-8")
    done = _run(["main.py", "db", "upgrade", "--config", str(config)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("数据库已是最新结构：") and done.stdout.count("\n") == 1
    assert done.stderr == ""  # was: nine "INFO alembic.runtime…" lines


def test_log_lines_are_in_utc_and_say_so():
    code = "import logging, main; main.configure_logging(); logging.getLogger('bot.test').info('hello')"
    done = _run(["-c", code])
    line = done.stderr.strip()
    found = re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d{3} UTC INFO bot\.test: hello", line)
    assert found, line
    logged = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - logged).total_seconds()) < 60


def test_a_reader_that_stops_early_is_not_an_error(cli):
    assert cli("demo", "load")[0] == 0
    read, write = os.pipe()
    os.close(read)  # like `| head` that has read its lines and gone
    try:
        done = _run(["main.py", "members", "list", "--config", str(cli.config)], stdout=write)
    finally:
        os.close(write)
    assert done.returncode == 0
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
