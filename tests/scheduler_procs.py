"""Real `main.py serve` processes for the crash and multi-process tests: a config file written from the
test settings, start, wait for a log line, SIGKILL, restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(v)


def to_toml(cfg: dict) -> str:
    lines = []
    for section, values in cfg.items():
        nested = {k: v for k, v in values.items() if isinstance(v, dict)}
        lines.append(f"[{section}]")
        lines += [f"{k} = {_value(v)}" for k, v in values.items() if not isinstance(v, dict)]
        for name, table in nested.items():
            lines.append(f"[{section}.{name}]")
            lines += [f"{k} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


class Serve:
    """One `main.py serve` subprocess; its log goes to a file and is watched for lines."""

    def __init__(self, config: Path, name: str = "serve") -> None:
        self.config = config
        self.log_path = config.with_name(f"{name}.log")
        self.proc: asyncio.subprocess.Process | None = None
        self._log = None

    def _open_log(self):
        return open(self.log_path, "ab")  # closed in kill/stop

    async def start(self) -> None:
        self._log = self._open_log()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "main.py", "serve", "--config", str(self.config),
            cwd=ROOT, stdout=self._log, stderr=self._log, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_for_log(self, text: str, timeout: float = 40.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.log():
            if self.proc.returncode is not None:
                raise AssertionError(f"serve exited ({self.proc.returncode}) before {text!r}:\n{self.log()[-3000:]}")
            if loop.time() > deadline:
                raise AssertionError(f"no {text!r} in the log after {timeout}s:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.02)

    async def kill(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
        if self._log:
            self._log.close()

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._log:
            self._log.close()
