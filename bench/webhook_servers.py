"""bench/webhook.py's servers: the bot's config for a run, `main.py db upgrade` and N × `main.py serve`
sharing the port (SO_REUSEPORT), and the wait until they answer a signed GET."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bench import webhook_traffic as traffic
from core.config import Settings
from wechat.protocol import sign

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_value(v) -> str:
    # JSON strings, numbers and booleans are valid TOML values.
    return json.dumps(v, ensure_ascii=False)


def write_config(path: Path, base: Settings, port: int, database: str, redis: str) -> None:
    w = base.wechat
    lines = ["[wechat]"]
    for key in ("appid", "secret", "token", "encoding_aes_key", "account_id", "account_type", "api_base_url"):
        lines.append(f"{key} = {toml_value(getattr(w, key))}")
    if w.encoding_aes_key:  # the bench sends plain and safe-mode messages to the same server
        lines.append('mode = "compatible"')
    lines += [
        "[server]", 'host = "127.0.0.1"', f"port = {port}",
        f"webhook_path = {toml_value(base.server.webhook_path)}",
        "[database]", f"url = {toml_value(database)}",
        "[redis]", f"url = {toml_value(redis)}",
        "[scheduler]", "enabled = false",
        "[sandbox]", f"state_path = {toml_value(str(path.parent / 'sandbox.json'))}",
        "[content]", f"media_dir = {toml_value(str(path.parent / 'media'))}",
        "[[keywords]]", 'match = "exact"', f"pattern = {toml_value(traffic.TEXT_KEYWORD)}",
        f"reply = {toml_value(traffic.TEXT_REPLY)}",
        "[[keywords]]", 'match = "exact"', f"pattern = {toml_value(traffic.NEWS_KEYWORD)}", 'reply_type = "news"',
        f"reply = {toml_value(traffic.NEWS_DESCRIPTION)}", f"title = {toml_value(traffic.NEWS_TITLE)}",
        f"url = {toml_value(traffic.NEWS_URL)}", f"picurl = {toml_value(traffic.NEWS_PICURL)}",
    ]
    for pattern, reply in traffic.EXTRA_RULES:
        lines += ["[[keywords]]", 'match = "exact"', f"pattern = {toml_value(pattern)}", f"reply = {toml_value(reply)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def ensure_pg_database(url: str) -> None:
    """Create the bench's PostgreSQL database when it does not exist yet."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        await (await asyncpg.connect(dsn, timeout=5)).close()
    except asyncpg.InvalidCatalogNameError:
        base, _, name = dsn.rpartition("/")
        conn = await asyncpg.connect(f"{base}/postgres", timeout=5)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()


WITHOUT_DIR = ROOT / "bench" / "without"  # its sitecustomize turns parts of the hot path off


def without_env(parts: str) -> dict[str, str] | None:
    """The environment of `serve` processes with these parts of the hot path off (bench/without/);
    None: the product as it is."""
    if not parts:
        return None
    env = dict(os.environ, BENCH_WITHOUT=parts)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(WITHOUT_DIR), env.get("PYTHONPATH", "")]))
    return env


class Servers:
    def __init__(self, config: Path, processes: int, workdir: Path, without: str = "") -> None:
        self.config = config
        self.env = without_env(without)
        self.processes = processes
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        py = sys.executable
        up = subprocess.run([py, "main.py", "db", "upgrade", "--config", str(self.config)], cwd=ROOT,
                            capture_output=True, text=True, check=False)
        if up.returncode != 0:
            raise SystemExit(f"db upgrade failed:\n{up.stdout}{up.stderr}")
        for i in range(self.processes):
            log = open(self.workdir / f"serve-{i}.log", "wb")  # closed when the process ends
            self.procs.append(subprocess.Popen(
                [py, "main.py", "serve", "--config", str(self.config)], cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, env=self.env,
            ))

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    def logs(self) -> str:
        return "\n".join((self.workdir / f"serve-{i}.log").read_text(errors="replace")[-3000:]
                         for i in range(len(self.procs)))


async def wait_ready(url: str, token: str, procs: Servers, seconds: float = 60) -> None:
    """Until the webhook answers a signed GET verification with its echostr."""
    deadline = time.monotonic() + seconds
    ts, nonce = str(int(time.time())), "1"
    query = {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "ready"}
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs.procs):
                raise SystemExit(f"the bot exited during start-up:\n{procs.logs()}")
            try:
                async with http.get(url, params=query) as resp:
                    if resp.status == 200 and await resp.text() == "ready":
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"the bot did not answer on {url} within {seconds:.0f} s:\n{procs.logs()}")

