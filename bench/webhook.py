"""Webhook throughput: start the bot, load it with signed follower messages through wrk, check every reply.

    .venv/bin/python bench/webhook.py                                   # one process, SQLite
    .venv/bin/python bench/webhook.py --processes 2 \\
        --database postgresql+asyncpg://root@127.0.0.1:5432/bench --redis redis://127.0.0.1:6379/14

What it does, in one command:
1. writes a config (the [wechat] keys of --config, a fresh SQLite file or --database, --redis, three
   bench keyword rules, the scheduler off) and runs `main.py db upgrade` and N × `main.py serve`
   (several processes share the port with SO_REUSEPORT);
2. asks one message of each kind through Python and checks the answers (calibration);
3. per mode (plain, safe): builds a pool of requests signed — and in safe mode encrypted — by the
   sandbox's WebhookDelivery (the same code that plays WeChat in the tests), every one with its own
   MsgId, from --followers followers; each follower always sends one of three texts: a keyword with a
   text reply, a keyword with a news reply, or a miss answered by the fallback;
4. runs wrk (Debian's `wrk`; lighter than a Python client on the same cores) for a warm-up and then for
   --duration seconds at --concurrency connections; a Lua script sends the pre-built requests and
   records every response;
5. checks every recorded reply afterwards: HTTP 200, the envelope's signature and AppID (safe mode),
   well-formed XML, addressed to a bench follower from the account, the reply that follower's text
   must get, and — since wrk cannot say which request a response answers — that no follower got more
   replies than it sent;
6. prints replies/s and p50/p95/p99 latency (wrk's own histogram) per mode.

Dedupe, follower tracking and the message log are whatever `main.py serve` does: all on.
Speed is printed, never asserted; see the figures in the project's notes. Runs of one setup vary by
up to ~18 % on a 2-core machine: compare within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from core.config import Settings, load_settings  # noqa: E402
from sandbox.delivery import WebhookDelivery, text_message  # noqa: E402
from wechat.protocol import sign  # noqa: E402

# The bench's keyword rules: a text reply, a news reply, and a text that matches nothing.
TEXT_KEYWORD = "办事指南"
TEXT_REPLY = "办事指南：登记、年检、评估三项业务均可在线办理，详见官网“办事服务”栏目。"
NEWS_KEYWORD = "年度报告"
NEWS_TITLE = "2025 年度工作报告"
NEWS_URL = "https://example.org/report-2025.html"
NEWS_PICURL = "https://example.org/report-2025.jpg"
NEWS_DESCRIPTION = "总会 2025 年度工作报告全文。"
MISS_TEXT = "今天食堂吃什么呀"
KINDS = ("text", "news", "miss")
SENDS = {"text": TEXT_KEYWORD, "news": NEWS_KEYWORD, "miss": MISS_TEXT}
# More exact text rules, (pattern, reply) (--compare: the bare server's table).
EXTRA_RULES: list[tuple[str, str]] = []

LUA = r"""
-- Pre-built requests, one file per wrk thread: records of "<length>\n<raw HTTP request>".
-- Every response is appended to a per-thread file as "<status> <length>\n<body>" for checking later.
threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local dir = args[1]
  local f = assert(io.open(dir .. "/requests-" .. tid .. ".dat", "rb"))
  local data = f:read("*a")
  f:close()
  pool = {}
  local pos = 1
  while pos <= #data do
    local nl = string.find(data, "\n", pos, true)
    local len = tonumber(string.sub(data, pos, nl - 1))
    table.insert(pool, string.sub(data, nl + 1, nl + len))
    pos = nl + len + 1
  end
  data = nil
  out = assert(io.open(dir .. "/replies-" .. tid .. ".dat", "wb"))
  sent = 0
  exhausted = 0
end

function request()
  if counter > #pool then
    -- Never repeat a MsgId (that would measure the dedupe cache): stop this thread instead.
    exhausted = 1
    wrk.thread:stop()
    return wrk.format("GET", "/__bench_pool_exhausted")
  end
  local r = pool[counter]
  counter = counter + 1
  sent = counter - 1
  return r
end

function response(status, headers, body)
  if exhausted == 1 and status == 404 then return end  -- the stop request above, not a reply
  out:write(status, " ", #body, "\n", body)
end

function done(summary, latency, requests)
  local per_thread = {}
  for _, t in ipairs(threads) do
    table.insert(per_thread, string.format('{"tid": %d, "sent": %d, "exhausted": %d}',
      t:get("tid"), t:get("sent"), t:get("exhausted")))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"duration_us": %d, "requests": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d, "threads": [%s]}\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    table.concat(per_thread, ", ")))
end
"""


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
        "[[keywords]]", 'match = "exact"', f"pattern = {toml_value(TEXT_KEYWORD)}",
        f"reply = {toml_value(TEXT_REPLY)}",
        "[[keywords]]", 'match = "exact"', f"pattern = {toml_value(NEWS_KEYWORD)}", 'reply_type = "news"',
        f"reply = {toml_value(NEWS_DESCRIPTION)}", f"title = {toml_value(NEWS_TITLE)}",
        f"url = {toml_value(NEWS_URL)}", f"picurl = {toml_value(NEWS_PICURL)}",
    ]
    for pattern, reply in EXTRA_RULES:
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


# --- the server ---------------------------------------------------------------------------------------


class Servers:
    def __init__(self, config: Path, processes: int, workdir: Path) -> None:
        self.config = config
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
                stderr=subprocess.STDOUT, start_new_session=True,
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


# --- requests and replies ----------------------------------------------------------------------------


@dataclass
class Expected:
    """What each kind of text must be answered with (checked against the rules by calibration)."""

    account_id: str
    replies: dict[str, tuple] = field(default_factory=dict)


def reply_key(inner: ET.Element) -> tuple:
    msg_type = inner.findtext("MsgType")
    if msg_type == "text":
        return ("text", inner.findtext("Content"))
    if msg_type == "news":
        items = tuple(
            (i.findtext("Title"), i.findtext("Description"), i.findtext("Url"), i.findtext("PicUrl"))
            for i in inner.iter("item")
        )
        return ("news", inner.findtext("ArticleCount"), items)
    return (msg_type,)


def followers(n: int) -> list[tuple[str, str]]:
    """(openid, kind): openids shaped like WeChat's (28 characters), kinds mixed evenly."""
    return [(f"oBench{i:06d}" + secrets.token_hex(8)[:16], KINDS[i % 3]) for i in range(n)]


def build_pool(
    delivery: WebhookDelivery, account_id: str, people: list[tuple[str, str]], count: int,
    first_msg_id: int, host: str, path: str, threads: int, workdir: Path,
) -> list[collections.Counter]:
    """Write `count` raw requests round-robin into one file per wrk thread; return per-thread lists of
    senders in order, so the senders of what each thread actually sent are known afterwards."""
    from urllib.parse import urlencode

    files = [open(workdir / f"requests-{t}.dat", "wb") for t in range(threads)]
    senders: list[list[str]] = [[] for _ in range(threads)]
    now = int(time.time())
    for i in range(count):
        openid, kind = people[i % len(people)]
        xml = text_message(account_id, openid, SENDS[kind], first_msg_id + i, now)
        query, body = delivery.prepare(xml, openid)
        data = body.encode("utf-8")
        raw = (
            f"POST {path}?{urlencode(query)} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        t = i % threads
        files[t].write(b"%d\n" % len(raw) + raw)
        senders[t].append(openid)
    for f in files:
        f.close()
    return senders


def read_replies(path: Path):
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        status, length = data[pos:nl].split(b" ")
        start = nl + 1
        yield int(status), data[start:start + int(length)]
        pos = start + int(length)


def check_reply(status: int, body: bytes, mode: str, delivery: WebhookDelivery, kinds: dict[str, str],
                expected: Expected) -> tuple[str | None, str]:
    """(recipient, "") for a correct reply, else (None, the problem)."""
    if status != 200:
        return None, f"HTTP {status}"
    text = body.decode("utf-8", "replace")
    try:
        if mode == "safe":
            if "<Encrypt>" not in text:
                return None, "safe-mode reply not encrypted"
            text = delivery.decrypt_reply(text)  # checks MsgSignature and the AppID
        inner = ET.fromstring(text)
    except Exception as e:  # every way a reply can break is reported alike
        return None, f"unreadable reply ({type(e).__name__}): {text[:120]!r}"
    to_user = inner.findtext("ToUserName")
    if to_user not in kinds:
        return None, f"addressed to an unknown follower {to_user!r}"
    if inner.findtext("FromUserName") != expected.account_id:
        return None, f"not from the account: {inner.findtext('FromUserName')!r}"
    if not (inner.findtext("CreateTime") or "").isdigit():
        return None, "CreateTime missing"
    got = reply_key(inner)
    want = expected.replies[kinds[to_user]]
    if got != want:
        return None, f"{kinds[to_user]} text answered {got!r}, expected {want!r}"
    return to_user, ""


async def calibrate(url: str, settings: Settings, mode: str) -> Expected:
    """Ask each kind once; the keyword replies must be the configured ones, the miss some text."""
    w = settings.wechat
    expected = Expected(w.account_id)
    async with aiohttp.ClientSession() as http:
        delivery = WebhookDelivery(url=url, token=w.token, appid=w.appid, encoding_aes_key=w.encoding_aes_key,
                                   mode=mode, http=http, max_retries=0)
        for kind in KINDS:
            result = await delivery.deliver(
                text_message(w.account_id, "oBenchCalibration" + kind, SENDS[kind],
                             secrets.randbits(60), int(time.time()))
            )
            if not result.ok or not result.reply.startswith("<"):
                raise SystemExit(f"calibration: {kind} message got {result}")
            expected.replies[kind] = reply_key(ET.fromstring(result.reply))
    want_text = ("text", TEXT_REPLY)
    want_news = ("news", "1", ((NEWS_TITLE, NEWS_DESCRIPTION, NEWS_URL, NEWS_PICURL),))
    if expected.replies["text"] != want_text:
        raise SystemExit(f"calibration: {TEXT_KEYWORD} answered {expected.replies['text']}, not the rule's reply")
    if expected.replies["news"] != want_news:
        raise SystemExit(f"calibration: {NEWS_KEYWORD} answered {expected.replies['news']}, not {want_news}")
    if expected.replies["miss"][0] != "text" or not expected.replies["miss"][1]:
        raise SystemExit(f"calibration: a miss answered {expected.replies['miss']}, not a fallback text")
    return expected


def run_wrk(url: str, workdir: Path, args, seconds: float) -> dict:
    script = workdir / "bench.lua"
    script.write_text(LUA)
    cmd = ["wrk", "-t", str(args.threads), "-c", str(args.concurrency), "-d", f"{max(1, round(seconds))}s",
           "--timeout", "5s", "-s", str(script), url, "--", str(workdir)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            return json.loads(line[len("BENCH-JSON "):])
    raise SystemExit(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")


def run_mode(mode: str, url: str, settings: Settings, expected: Expected, args, workdir: Path,
             msg_ids: iter, people: list[tuple[str, str]], warm: bool = True) -> dict:
    w = settings.wechat
    delivery = WebhookDelivery(url=url, token=w.token, appid=w.appid, encoding_aes_key=w.encoding_aes_key,
                               mode=mode, http=None)  # only prepare()/decrypt_reply() are used: no HTTP
    kinds = dict(people)
    host = url.split("/")[2]
    path = "/" + url.split("/", 3)[3]
    pool = args.pool or int(args.duration * (args.rate_plain if mode == "plain" else args.rate_safe))

    # Warm-up: the same kind of traffic with its own MsgIds; its replies are not checked. Followers
    # are taken in turn, so once it has answered --followers requests every follower is known to the
    # bot and the measured run is the steady state (no first-contact inserts).
    if warm:
        build_pool(delivery, w.account_id, people, max(len(people), int(args.warmup * 6000)), next(msg_ids),
                   host, path, args.threads, workdir)
        warm = run_wrk(url, workdir, args, args.warmup)
    else:  # a later segment of a --memory run: warmed up by the first
        warm = {"requests": 0}
    warmed_at = time.monotonic()

    t0 = time.monotonic()
    senders = build_pool(delivery, w.account_id, people, pool, next(msg_ids), host, path, args.threads, workdir)
    built = time.monotonic() - t0
    stats = run_wrk(url, workdir, args, args.duration)

    sent = collections.Counter()
    for t in stats["threads"]:
        sent.update(senders[t["tid"]][: t["sent"]])
    got = collections.Counter()
    problems: collections.Counter = collections.Counter()
    replies = 0
    for t in range(args.threads):
        for status, body in read_replies(workdir / f"replies-{t}.dat"):
            replies += 1
            recipient, problem = check_reply(status, body, mode, delivery, kinds, expected)
            if recipient:
                got[recipient] += 1
            else:
                problems[problem] += 1
    over = sum(max(0, got[o] - sent[o]) for o in got)
    if over:
        problems["more replies to a follower than it sent (misaddressed)"] += over
    unanswered = sum(sent.values()) - replies
    exhausted = any(t["exhausted"] for t in stats["threads"])
    seconds = stats["duration_us"] / 1e6
    return {
        "mode": mode, "pool": pool, "built_s": built, "sent": sum(sent.values()), "replies": replies,
        "valid": sum(got.values()) - over, "invalid": sum(problems.values()), "problems": problems,
        "unanswered": unanswered, "exhausted": exhausted, "seconds": seconds,
        "rps": replies / seconds, "p50": stats["p50"] / 1000, "p95": stats["p95"] / 1000,
        "p99": stats["p99"] / 1000, "max": stats["max"] / 1000,
        "socket_errors": {k: stats[k] for k in ("connect", "read", "write", "timeout") if stats[k]},
        "warm_requests": warm["requests"], "followers": len(people), "warmed_at": warmed_at,
    }


def print_result(r: dict, args) -> None:
    print(
        f"{r['mode']:>5}: {r['rps']:8,.0f} replies/s   p50 {r['p50']:6.2f} ms   p95 {r['p95']:6.2f} ms   "
        f"p99 {r['p99']:6.2f} ms   max {r['max']:7.2f} ms   "
        f"({r['replies']:,} replies in {r['seconds']:.1f} s; {r['valid']:,} checked valid, "
        f"{r['invalid']} invalid, {r['unanswered']} unanswered at the cut-off)"
    )
    for problem, n in r["problems"].most_common(5):
        print(f"       invalid ×{n}: {problem}")
    if r["socket_errors"]:
        print(f"       socket errors: {r['socket_errors']}")
    if r["warm_requests"] + args.contacted < r["followers"]:
        print(f"       the warm-up reached only {r['warm_requests']:,} of {r['followers']:,} followers: the run "
              "includes first contacts (new follower rows); use a longer --warmup for the steady state")
    if r["exhausted"]:
        print(f"       the pool of {r['pool']:,} requests ran out before {args.duration} s: the rate is a "
              "lower bound; rerun with a bigger --pool")
    if r["unanswered"] > args.concurrency + args.threads:  # + one request each thread built as it stopped
        print(f"       {r['unanswered']} sent requests got no reply (more than the {args.concurrency} in flight)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(ROOT / "config.toml"), help="whose [wechat] keys to use")
    p.add_argument("--processes", type=int, default=1, help="bot processes sharing the port (default 1)")
    p.add_argument("--database", default="", help="postgresql+asyncpg:// URL (default: a fresh SQLite file)")
    p.add_argument("--redis", default="", help="redis:// URL for shared state (default: none)")
    p.add_argument("--concurrency", type=int, default=50, help="open connections (default 50)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--duration", type=float, default=10, help="seconds per mode (default 10)")
    p.add_argument("--warmup", type=float, default=3, help="warm-up seconds per mode (default 3)")
    p.add_argument("--followers", type=int, default=3000, help="distinct senders (default 3000)")
    p.add_argument("--modes", default="plain,safe", help="plain, safe or both (default plain,safe)")
    p.add_argument("--pool", type=int, default=0, help="pre-built requests per mode (default: duration × rate)")
    p.add_argument("--rate-plain", type=int, default=15000, help=argparse.SUPPRESS)
    p.add_argument("--rate-safe", type=int, default=10000, help=argparse.SUPPRESS)
    p.add_argument("--memory", action="store_true",
                   help="sample the servers' resident memory each second; load in segments (bench/webhook_memory.py)")
    p.add_argument("--segment", type=float, default=20, help="--memory: seconds per segment (default 20)")
    p.add_argument("--compare", default="", metavar="PATH",
                   help="the bare webhook (bare_webhook.py): bare, ours, bare again, three rounds (bench/webhook_compare.py)")
    p.add_argument("--keep", action="store_true", help="keep the work folder (config, logs, requests)")
    args = p.parse_args(argv)
    args.contacted = 0  # requests answered so far: past --followers, every follower is known to the bot

    if not shutil.which("wrk"):
        print("error: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if args.processes > 1 and not args.database:
        print("error: several processes need --database postgresql+asyncpg://… (and --redis)", file=sys.stderr)
        return 2
    base = load_settings(args.config)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if "safe" in modes and not base.wechat.encoding_aes_key:
        print("error: safe mode needs [wechat] encoding_aes_key in --config", file=sys.stderr)
        return 2

    if args.compare:
        from bench.webhook_compare import run_compare

        args.contacted = 0
        return run_compare(sys.modules[__name__], args, modes)
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    port = free_port()
    database = args.database or f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    if database.startswith("postgresql"):
        asyncio.run(ensure_pg_database(database))
    config = workdir / "config.toml"
    write_config(config, base, port, database, args.redis)
    settings = load_settings(config, environ={})
    url = f"http://127.0.0.1:{port}{settings.server.webhook_path}"
    servers = Servers(config, args.processes, workdir)
    # MsgIds no earlier run used (dedupe keys outlive a run in Redis/PostgreSQL).
    msg_ids = iter(range(int(time.time() * 1000) * 1000, 2**63, 10**7))
    load = os.getloadavg()
    print(f"bench: {args.processes} process(es), {database.split('://')[0]}{' + redis' if args.redis else ''}, "
          f"concurrency {args.concurrency}, wrk threads {args.threads}, {args.duration:g} s per mode, "
          f"{args.followers} followers; load average before start {load[0]:.2f}")
    results = []
    people = followers(args.followers)  # the same followers in every mode
    try:
        servers.start()
        asyncio.run(wait_ready(url, settings.wechat.token, servers))
        expected = asyncio.run(calibrate(url, settings, "plain"))
        for mode in modes:
            if args.memory:
                from bench.webhook_memory import run_memory

                done = run_memory(run_mode, print_result, mode, [p.pid for p in servers.procs], args,
                                  url, settings, expected, workdir, msg_ids, people)
                results += done
                args.contacted += sum(r["warm_requests"] + r["replies"] for r in done)
                continue
            r = run_mode(mode, url, settings, expected, args, workdir, msg_ids, people)
            results.append(r)
            print_result(r, args)
            args.contacted += r["warm_requests"] + r["replies"]
        if any(p.poll() is not None for p in servers.procs):
            print(f"a bot process died:\n{servers.logs()}")
            return 1
    finally:
        servers.stop()
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r["invalid"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
