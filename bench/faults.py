"""Faults under load, measured (loopback only, bounded).

    .venv/bin/python bench/faults.py [--seconds 20] [--rate 20] [--pushes 6] [--downtime 5] [--only kill,postgres,redis,disk]

Three `main.py serve` processes share one port (SO_REUSEPORT) on a PostgreSQL server and a Redis server
that the bench starts itself in a temporary folder (PostgreSQL with initdb/pg_ctl as the `postgres`
user; redis-server on a port of its own; never the machine's). The local WeChat platform runs in this
process. A steady load of follower messages comes in the way WeChat sends them: a message not
answered within 5 s (or whose connection fails) is sent again, three times in all, with the same
MsgId. Half the messages are 帮助 (no database needed), half a member lookup (reads the database each
time). Pushes fall due at the moment of each fault. Then, one at a time:

    kill      kill -9 one serve process (restarted after --downtime, as a supervisor would)
    postgres  restart PostgreSQL (pg_ctl stop -m fast, --downtime s, start)
    redis     restart Redis (its data are gone: it keeps none on disk)
    disk      one serve process on the SQLite default, its database on a small tmpfs that is filled
              for --downtime s (needs `mount`; said so if it is not permitted)

For each: messages sent; how many got no answer after the retries (no 200, or only `success` and
no customer-service message later); how many got the fallback text; how many were handled twice
(two `in` rows for one MsgId in the message log); how long after the fault the last message that
did not get its reply on the first attempt was sent (the time to recover); and, for the pushes due
then, how many were not done (lost) and how many were published twice.

`run()` is the whole bench, for tests/test_ops_faults.py's short form.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import open_services
from bot import texts as bot_texts
from core.config import parse_settings
from scheduler import editing
from store.demo import load_demo
from store.migrate import upgrade
from store.models.content import Article
from store.models.pushes import Push, PushArticle
from store.models.webhook import MessageLog
from tests.fixtures.sandbox import start_sandbox
from tests.scheduler_procs import Serve, to_toml
from tests.scheduler_support import EVERY_DAY, Env
from tests.webhook_helpers import next_msg_id, signed_query, text_xml

TOKEN = "benchtoken"
ACCOUNT = "gh_faultbench01"
EDITOR = "o_editor_fault"
LOOKUP = "会员 浙江省银行业协会"
WECHAT_WAIT = 5.0  # WeChat's: an answer within 5 s, else the message again
ATTEMPTS = 3


@dataclass
class Options:
    seconds: float = 20.0  # load after each fault
    before: float = 3.0  # load before it
    rate: float = 20.0  # messages a second
    pushes: int = 6  # due at each fault
    downtime: float = 5.0
    only: tuple[str, ...] = ("kill", "postgres", "redis", "disk")
    processes: int = 3
    base_port: int = 19560
    settle: float = 60.0  # at most this long for the pushes and late replies after the load


@dataclass
class Sent:
    openid: str
    key: str
    at: float
    attempts: int = 0
    kind: str = "none"  # reply | fallback | success | none
    first: str = "none"  # the first attempt's kind


@dataclass
class Figures:
    scenario: str
    messages: int = 0
    unanswered: int = 0
    fallback: int = 0
    retried: int = 0
    handled_twice: int = 0
    recover_seconds: float = 0.0
    pushes: int = 0
    pushes_lost: int = 0
    pushes_twice: int = 0
    note: str = ""
    extra: dict = field(default_factory=dict)


# --- the servers the bench runs itself ---------------------------------------------------------------


def _as_postgres(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd]


class Postgres:
    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root / "pg", port
        self.data, self.sock = self.root / "data", self.root / "run"

    def start_sync(self) -> None:
        if not self.data.exists():
            self.root.mkdir(parents=True)
            self.sock.mkdir()
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
            subprocess.run(_as_postgres("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres",
                                        "--no-sync", "-E", "UTF8", "--locale=C"), check=True,
                           capture_output=True)
        opts = (f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=300 -c full_page_writes=off")
        subprocess.run(_as_postgres("pg_ctl", "-D", str(self.data), "-o", opts, "-w", "-l",
                                    str(self.root / "log"), "start"), check=True, capture_output=True)

    def stop_sync(self, mode: str = "fast") -> None:
        subprocess.run(_as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"),
                       check=False, capture_output=True)

    async def start(self) -> None:
        await asyncio.to_thread(self.start_sync)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_sync)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{db}"

    async def create(self, db: str) -> str:
        import asyncpg

        con = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
        try:
            await con.execute(f'CREATE DATABASE "{db}"')
        finally:
            await con.close()
        return self.url(db)


class Redis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        for _ in range(100):
            with contextlib.suppress(OSError):
                _r, w = await asyncio.open_connection("127.0.0.1", self.port)
                w.close()
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await self.proc.wait()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


# --- WeChat, as it sends and retries -------------------------------------------------------------------


class WeChat:
    def __init__(self, url: str, sandbox) -> None:
        self.url, self.sandbox = url, sandbox
        self.sent: list[Sent] = []

    def _kind(self, status: int, body: str) -> str | None:
        if status != 200:
            return None
        if body in ("", "success"):
            return "success"
        return "fallback" if bot_texts.ERROR in body else "reply"

    async def deliver(self, http: aiohttp.ClientSession, n: int) -> None:
        openid = f"o_fault_{n}"
        msg_id = next_msg_id()
        xml = text_xml(openid, "帮助" if n % 2 else LOOKUP, msg_id=msg_id, account=ACCOUNT)
        item = Sent(openid, f"m:{msg_id}", time.monotonic())
        self.sent.append(item)
        self.sandbox.platform.follower_action(openid, "message")  # a late reply may go out by the API
        for attempt in range(ATTEMPTS):
            started = time.monotonic()
            item.attempts = attempt + 1
            kind = None
            try:
                timeout = aiohttp.ClientTimeout(total=WECHAT_WAIT)
                async with http.post(self.url, params=signed_query(TOKEN), data=xml.encode(), timeout=timeout) as r:
                    kind = self._kind(r.status, await r.text())
            except (aiohttp.ClientError, TimeoutError):
                pass
            if attempt == 0:
                item.first = kind or "none"
            if kind is not None:
                item.kind = kind
                return
            await asyncio.sleep(max(0.0, started + WECHAT_WAIT - time.monotonic()))

    async def load(self, seconds: float, rate: float) -> None:
        tasks = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True)) as http:
            end = time.monotonic() + seconds
            n = len(self.sent)
            while time.monotonic() < end:
                tasks.append(asyncio.create_task(self.deliver(http, n)))
                n += 1
                await asyncio.sleep(1.0 / rate)
            await asyncio.gather(*tasks)


# --- one scenario --------------------------------------------------------------------------------------


async def _pushes_due(services, article_ids: list[int], at) -> list[int]:
    ids = []
    for aid in article_ids:
        push = await editing.create(services, editing.PushSpec(article_ids=[aid], at=at))
        ids.append(push.id)
    return ids


async def _wait_done(services, push_ids: list[int], timeout: float) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            async with services.db() as s:
                states = dict((await s.execute(select(Push.id, Push.state).where(Push.id.in_(push_ids)))).all())
            if all(v in ("done", "failed") for v in states.values()) or time.monotonic() > deadline:
                return states
        if time.monotonic() > deadline:
            return {}
        await asyncio.sleep(0.5)


async def _twice(services, keys: list[str]) -> int:
    for _ in range(20):
        with contextlib.suppress(Exception):
            async with services.db() as s:
                rows = (await s.execute(select(MessageLog.msg_key, func.count()).where(
                    MessageLog.direction == "in", MessageLog.msg_key.in_(keys)).group_by(MessageLog.msg_key)
                    .having(func.count() > 1))).all()
            return len(rows)
        await asyncio.sleep(0.5)
    return -1


def _published_titles(sandbox) -> list[str]:
    return [a["news_item"][0]["title"] for a in sandbox.platform.state["articles"].values() if a["news_item"]]


COUNTERS = {"fallbacks": "wxbot_deadline_fallbacks_total", "dedupe_hits": "wxbot_dedupe_hits_total",
            "log_write_failures": "wxbot_messagelog_write_failures_total", "replies": "wxbot_replies_total"}


async def counters(port: int) -> dict[str, float]:
    """The fleet's counters, from its /metrics (any process answers for all)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
            text = await r.text()
    except aiohttp.ClientError:
        return {}
    found = dict.fromkeys(COUNTERS, 0.0)
    names = {v: k for k, v in COUNTERS.items()}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name in names:
                found[names[s.name]] += s.value
    return found


async def scenario(name: str, fault, opts: Options, wechat: WeChat, services, sandbox, article_ids) -> Figures:
    start_index = len(wechat.sent)
    metrics_port = services.settings.server.metrics_port
    before = await counters(metrics_port)
    at = services.clock.now() + timedelta(seconds=opts.before)
    push_ids = await _pushes_due(services, article_ids, at)
    load = asyncio.create_task(wechat.load(opts.before + opts.seconds, opts.rate))
    await asyncio.sleep(opts.before)
    fault_at = time.monotonic()
    note = await fault()
    await load
    sent = wechat.sent[start_index:]
    states = await _wait_done(services, push_ids, opts.settle)
    await asyncio.sleep(1.0)  # late replies through the customer-service API
    late = {m["openid"] for m in sandbox.platform.state["cs_messages"]}
    unanswered = [m for m in sent if m.kind == "none" or (m.kind == "success" and m.openid not in late)]
    disturbed = [m.at - fault_at for m in sent if m.first != "reply" and m.at >= fault_at - WECHAT_WAIT]
    async with services.db() as s:
        titles = (await s.scalars(select(Article.title).join(PushArticle, PushArticle.article_id == Article.id)
                                  .where(PushArticle.push_id.in_(push_ids)))).all()
    published = _published_titles(sandbox)
    twice = sum(published.count(t) > 1 for t in titles)
    after = await counters(metrics_port)
    counted = {k: after[k] - before.get(k, 0.0) for k in after}
    return Figures(
        scenario=name, messages=len(sent), unanswered=len(unanswered),
        fallback=sum(m.kind == "fallback" for m in sent), retried=sum(m.attempts > 1 for m in sent),
        handled_twice=await _twice(services, [m.key for m in sent]),
        recover_seconds=round(max([0.0, *disturbed]), 1), pushes=len(push_ids),
        pushes_lost=sum(states.get(p) != "done" for p in push_ids), pushes_twice=twice, note=note or "",
        extra={"kinds": {k: sum(m.kind == k for m in sent) for k in ("reply", "fallback", "success", "none")},
               "push_states": sorted(states.values()), "metrics": counted},
    )


# --- the set-ups -------------------------------------------------------------------------------------


def _config(root: Path, port: int, db_url: str, redis_url: str, sandbox_url: str) -> dict:
    return {
        "wechat": {"appid": "wxfaultbench0001", "secret": "bench-secret", "token": TOKEN, "account_id": ACCOUNT,
                   "api_base_url": sandbox_url},
        # /metrics on a port of its own, every process's counts added up (multiprocess mode).
        "server": {"port": port, "metrics_port": port + 5, "metrics_dir": str(root / f"metrics-{port}")},
        "database": {"url": db_url},
        "redis": {"url": redis_url},
        "sandbox": {"state_path": str(root / "sandbox.json"), "port": 9},
        "content": {"media_dir": str(root / "media")},
        "scheduler": {"tick_seconds": 0.5, "poll_seconds": 1.0, "retry_seconds": 0.5, "claim_seconds": 10.0,
                      "publish_settle_seconds": 2.0, "slots": EVERY_DAY, "auto_approve": True},
        "editors": {"openids": [EDITOR]},
        "log": {"flush_seconds": 0.2},
    }


async def _prepare(root: Path, cfg: dict, name: str, pushes: int, sandbox):
    path = root / f"{name}.toml"
    path.write_text(to_toml(cfg), encoding="utf-8")
    # The bench's own view of the fleet counts nothing: without the processes' metrics folder, so
    # this process (pytest, in the short form) never turns to multiprocess mode over a folder that
    # is deleted with the run.
    server = {k: v for k, v in cfg.get("server", {}).items() if k != "metrics_dir"}
    settings = parse_settings({**cfg, "server": server}, base_dir=root, environ={})
    await upgrade(settings.database_url)
    return path, settings


async def run_pg(opts: Options, root: Path, sandbox) -> list[Figures]:
    port = opts.base_port
    pg, redis = Postgres(root, port + 1), Redis(port + 2)
    await pg.start()
    await redis.start()
    figures: list[Figures] = []
    procs: list[Serve] = []
    try:
        url = await pg.create("bench")
        cfg = _config(root, port, url, redis.url, sandbox.url)
        path, settings = await _prepare(root, cfg, "pg", opts.pushes, sandbox)
        sandbox.set_webhook(f"http://127.0.0.1:{port}/wechat")
        async with open_services(settings) as services:
            await load_demo(services)
            env = Env(services, sandbox, runner=None)
            scenarios = [s for s in ("kill", "postgres", "redis") if s in opts.only]
            articles = await env.articles(opts.pushes * len(scenarios), images=1)
            procs = [Serve(path, name=f"serve{i}") for i in range(opts.processes)]
            await asyncio.gather(*(p.start() for p in procs))
            await asyncio.gather(*(p.wait_for_log("bot listening", timeout=90) for p in procs))
            wechat = WeChat(f"http://127.0.0.1:{port}/wechat", sandbox)

            async def kill() -> str:
                await procs[0].kill()
                await asyncio.sleep(opts.downtime)
                procs[0] = Serve(path, name="serve0-again")
                await procs[0].start()
                started = time.monotonic()
                await procs[0].wait_for_log("bot listening", timeout=90)
                return f"killed process restarted after {opts.downtime:.0f} s, up {time.monotonic() - started:.1f} s later"

            async def postgres() -> str:
                await pg.stop()
                await asyncio.sleep(opts.downtime)
                await pg.start()
                return f"PostgreSQL down {opts.downtime:.0f} s"

            async def redis_restart() -> str:
                await redis.stop()
                await asyncio.sleep(opts.downtime)
                await redis.start()
                return f"Redis down {opts.downtime:.0f} s, its data lost"

            faults = {"kill": kill, "postgres": postgres, "redis": redis_restart}
            for i, name in enumerate(scenarios):
                batch = articles[i * opts.pushes:(i + 1) * opts.pushes]
                figures.append(await scenario(name, faults[name], opts, wechat, services, sandbox, batch))
                alive = sum(p.proc.returncode is None for p in procs)
                figures[-1].extra["processes_alive_after"] = alive
    finally:
        await asyncio.gather(*(p.stop() for p in procs), return_exceptions=True)
        await redis.stop()
        await pg.stop()
    return figures


def _fill(path: Path) -> None:
    """Write zeros to `path` until the file system is full."""
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise


async def run_disk(opts: Options, root: Path, sandbox) -> Figures:
    disk = root / "disk"
    disk.mkdir()
    mounted = await asyncio.to_thread(subprocess.run, ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs",
                                                       str(disk)], capture_output=True, text=True)
    if mounted.returncode:
        return Figures("disk", note=f"not run: mount not permitted ({mounted.stderr.strip()})")
    port = opts.base_port + 10
    proc = None
    try:
        cfg = _config(root, port, f"sqlite+aiosqlite:///{disk / 'bot.db'}", "", sandbox.url)
        del cfg["redis"]
        path, settings = await _prepare(root, cfg, "sqlite", opts.pushes, sandbox)
        sandbox.set_webhook(f"http://127.0.0.1:{port}/wechat")
        async with open_services(settings) as services:
            await load_demo(services)
            articles = await Env(services, sandbox, runner=None).articles(opts.pushes, images=1, start=1000)
            proc = Serve(path, name="serve-sqlite")
            await proc.start()
            await proc.wait_for_log("bot listening", timeout=90)
            wechat = WeChat(f"http://127.0.0.1:{port}/wechat", sandbox)

            async def fill() -> str:
                filler = disk / "filler"
                await asyncio.to_thread(_fill, filler)
                await asyncio.sleep(opts.downtime)
                filler.unlink()
                return f"disk full {opts.downtime:.0f} s (tmpfs 24 MB)"

            return await scenario("disk", fill, opts, wechat, services, sandbox, articles)
    finally:
        if proc is not None:
            await proc.stop()
        await asyncio.to_thread(subprocess.run, ["umount", "-l", str(disk)], capture_output=True)


async def run(opts: Options) -> list[Figures]:
    root = Path(tempfile.mkdtemp(prefix="wxbot-faults-"))
    os.chmod(root, 0o755)  # the postgres user reads its data folder inside
    cfg = _config(root, opts.base_port, "sqlite+aiosqlite:///unused.db", "", "http://127.0.0.1:9")
    sandbox = await start_sandbox(parse_settings(cfg, base_dir=root, environ={}), publish_delay=0.2,
                                  delivery_retry_after=2.0)
    sandbox.platform.set_follower(EDITOR)
    try:
        figures = []
        if {"kill", "postgres", "redis"} & set(opts.only):
            figures += await run_pg(opts, root, sandbox)
        if "disk" in opts.only:
            figures.append(await run_disk(opts, root, sandbox))
        return figures
    finally:
        await sandbox.close()
        shutil.rmtree(root, ignore_errors=True)


def table(figures: list[Figures]) -> str:
    head = ("scenario", "msgs", "unanswered", "fallback", "retried", "twice", "recover s", "pushes", "lost",
            "sent twice", "log writes failed")
    rows = [head] + [(f.scenario, f.messages, f.unanswered, f.fallback, f.retried, f.handled_twice,
                      f.recover_seconds, f.pushes, f.pushes_lost, f.pushes_twice,
                      int(f.extra.get("metrics", {}).get("log_write_failures", 0))) for f in figures]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    lines = ["  ".join(str(v).rjust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines + [f"{f.scenario}: {f.note}" for f in figures if f.note])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--pushes", type=int, default=6)
    ap.add_argument("--downtime", type=float, default=5.0)
    ap.add_argument("--only", default="kill,postgres,redis,disk")
    args = ap.parse_args()
    opts = Options(seconds=args.seconds, rate=args.rate, pushes=args.pushes, downtime=args.downtime,
                   only=tuple(args.only.split(",")))
    started = time.monotonic()
    figures = asyncio.run(run(opts))
    print(table(figures))
    print(json.dumps([asdict(f) for f in figures], ensure_ascii=False))
    print(f"{time.monotonic() - started:.0f} s; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
