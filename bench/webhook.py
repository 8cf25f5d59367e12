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
6. prints replies/s, p50/p95/p99 latency (wrk's own histogram) and the servers' CPU per reply (/proc) per mode.

The parts: the servers and their config (bench/webhook_servers.py), the requests, texts and the check
of the replies (bench/webhook_traffic.py), `--compare` and `--memory` (bench/webhook_compare.py,
bench/webhook_memory.py); this file runs wrk and prints.

Dedupe, follower tracking and the message log are whatever `main.py serve` does: all on, unless
`--without log,follow,dedupe,handle` turns some off in our servers (bench/without/sitecustomize.py) to
measure what each costs; with `--compare`, against the bare server in the same run.
Speed is printed, never asserted; see the figures in the project's notes. Runs of one setup vary by
up to ~18 % on a 2-core machine: compare within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook_servers import Servers, ensure_pg_database, free_port, wait_ready, write_config  # noqa: E402
from bench.webhook_traffic import (  # noqa: E402
    LUA,
    Expected,
    build_pool,
    calibrate,
    check_reply,
    contact_all,
    followers,
    read_replies,
)
from core.config import Settings, load_settings  # noqa: E402
from sandbox.delivery import WebhookDelivery  # noqa: E402


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


def cpu_seconds(pids) -> float:
    """User + system CPU of these processes and their children (Linux /proc): what a run cost them,
    whatever share of the cores the machine's other load left them."""
    total, todo, tick = 0.0, list(pids), os.sysconf("SC_CLK_TCK")
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            pass
    return total


def run_mode(mode: str, url: str, settings: Settings, expected: Expected, args, workdir: Path,
             msg_ids: iter, people: list[tuple[str, str]], warm: bool = True, pids=()) -> dict:
    w = settings.wechat
    delivery = WebhookDelivery(url=url, token=w.token, appid=w.appid, encoding_aes_key=w.encoding_aes_key,
                               mode=mode, http=None)  # only prepare()/decrypt_reply() are used: no HTTP
    kinds = dict(people)
    host = url.split("/")[2]
    path = "/" + url.split("/", 3)[3]
    pool = args.pool or int(args.duration * (args.rate_plain if mode == "plain" else args.rate_safe))

    # Warm-up: every follower once (so that the measured run is the steady state, no first-contact
    # reads or inserts), then the same kind of traffic for --warmup seconds; its replies are not checked.
    if warm:
        contacted = 0
        if args.contacted < len(people):
            contacted = asyncio.run(contact_all(url, settings, mode, people, next(msg_ids), args.concurrency))
        build_pool(delivery, w.account_id, people, max(len(people), int(args.warmup * 6000)), next(msg_ids),
                   host, path, args.threads, workdir)
        warm = run_wrk(url, workdir, args, args.warmup)
        warm["requests"] += contacted
    else:  # a later segment of a --memory run: warmed up by the first
        warm = {"requests": 0}
    warmed_at = time.monotonic()

    t0 = time.monotonic()
    senders = build_pool(delivery, w.account_id, people, pool, next(msg_ids), host, path, args.threads, workdir)
    built = time.monotonic() - t0
    cpu = cpu_seconds(pids)
    stats = run_wrk(url, workdir, args, args.duration)
    cpu = cpu_seconds(pids) - cpu

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
        "cpu_ms": 1000 * cpu / replies if pids and replies else None,
        "warm_requests": warm["requests"], "followers": len(people), "warmed_at": warmed_at,
    }


def print_result(r: dict, args) -> None:
    print(
        f"{r['mode']:>5}: {r['rps']:8,.0f} replies/s   p50 {r['p50']:6.2f} ms   p95 {r['p95']:6.2f} ms   "
        f"p99 {r['p99']:6.2f} ms   max {r['max']:7.2f} ms   "
        f"({r['replies']:,} replies in {r['seconds']:.1f} s; {r['valid']:,} checked valid, "
        f"{r['invalid']} invalid, {r['unanswered']} unanswered at the cut-off)"
        + (f"; server CPU {r['cpu_ms']:.2f} ms/reply" if r.get("cpu_ms") else "")
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
    # The pool's size per second of --duration: above the fastest rate seen (two bare processes on
    # 2 cores: 15,000/s plain and 10,000/s safe ran out of a pool of this size at the old defaults).
    p.add_argument("--rate-plain", type=int, default=25000, help=argparse.SUPPRESS)
    p.add_argument("--rate-safe", type=int, default=16000, help=argparse.SUPPRESS)
    p.add_argument("--memory", action="store_true",
                   help="sample the servers' resident memory each second; load in segments (bench/webhook_memory.py)")
    p.add_argument("--segment", type=float, default=20, help="--memory: seconds per segment (default 20)")
    p.add_argument("--compare", default="", metavar="PATH",
                   help="the bare webhook (bare_webhook.py): bare, ours, bare again, three rounds (bench/webhook_compare.py)")
    p.add_argument("--rounds", type=int, default=0, help="--compare: rounds (default 3)")
    p.add_argument("--without", default="", metavar="PARTS",
                   help="our servers with parts of the hot path off, to measure them: any of "
                        "log,follow,dedupe,handle (bench/without/sitecustomize.py)")
    p.add_argument("--keep", action="store_true", help="keep the work folder (config, logs, requests)")
    args = p.parse_args(argv)
    args.contacted = 0  # requests answered so far: past --followers, every follower is known to the bot

    if not shutil.which("wrk"):
        print("error: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if args.processes > 1 and not args.database:
        print("error: several processes need --database postgresql+asyncpg://… (and --redis)", file=sys.stderr)
        return 2
    from bench.without.sitecustomize import PARTS, parts_of

    unknown = parts_of(args.without) - set(PARTS)
    if unknown:
        print(f"error: --without takes {','.join(PARTS)}, not {','.join(sorted(unknown))}", file=sys.stderr)
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
    servers = Servers(config, args.processes, workdir, args.without)
    # MsgIds no earlier run used (dedupe keys outlive a run in Redis/PostgreSQL).
    msg_ids = iter(range(int(time.time() * 1000) * 1000, 2**63, 10**7))
    load = os.getloadavg()
    print(f"bench: {args.processes} process(es), {database.split('://')[0]}{' + redis' if args.redis else ''}, "
          f"concurrency {args.concurrency}, wrk threads {args.threads}, {args.duration:g} s per mode, "
          f"{args.followers} followers; load average before start {load[0]:.2f}"
          + (f"; without {args.without}" if args.without else ""))
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
            r = run_mode(mode, url, settings, expected, args, workdir, msg_ids, people,
                         pids=[p.pid for p in servers.procs])
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
