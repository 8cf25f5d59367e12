"""`bench/webhook.py --compare PATH`: the bare webhook (shared/bench/bare_webhook.py) and ours under the
same load in one run — bare, ours, bare again (to cancel the machine's drift), three rounds — then the
medians and the ratios ours / bare (each round's ours against the mean of the two bare runs around it).

Both servers get the bare one's 50 keyword rules (bare_rules.py beside PATH), so every request of a
pool asks the same of each (but for the news rule's word: ours answers 新闻 with its own news handler,
which reads the database, so its rule with the same article is under the bench's word); the replies are checked for both alike (webhook.py's check_reply), and the
machine's load average is printed before each run. With --database, give it a database of its own:
`serve` seeds keyword rules once, so a database the plain bench used keeps that bench's news article
under the same word, and calibration stops the run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 3
OUR_NEWS_KEYWORD = "年度报告"  # webhook.py's own


def load_bare_rules(bare: Path):
    spec = importlib.util.spec_from_file_location("bare_rules", bare.parent / "bare_rules.py")
    rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rules)
    return rules


def use_bare_rules(w, rules) -> None:
    """Point the bench texts and keyword rules (bench/webhook_traffic.py, `w`) at the bare server's table."""
    w.TEXT_KEYWORD = "地址"
    w.TEXT_REPLY = rules.TEXT_RULES[w.TEXT_KEYWORD]
    w.NEWS_KEYWORD = rules.NEWS_KEYWORD
    a = rules.NEWS_ARTICLE
    w.NEWS_TITLE, w.NEWS_DESCRIPTION, w.NEWS_URL, w.NEWS_PICURL = a["title"], a["description"], a["url"], a["image"]
    w.SENDS.update(text=w.TEXT_KEYWORD, news=w.NEWS_KEYWORD)
    w.EXTRA_RULES[:] = [(k, v) for k, v in rules.TEXT_RULES.items() if k != w.TEXT_KEYWORD]


class BareServer:
    """The bare webhook as a child process (its own --workers for several), the Servers interface."""

    def __init__(self, path: Path, port: int, wechat, processes: int, workdir: Path) -> None:
        self.cmd = [sys.executable, str(path), "--port", str(port), "--token", wechat.token,
                    "--aes-key", wechat.encoding_aes_key, "--appid", wechat.appid, "--workers", str(processes)]
        self.cwd = path.parent
        self.log = workdir / "bare.log"
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.procs.append(subprocess.Popen(self.cmd, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)  # the parent stops its workers by PID
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def run_compare(runner, args, modes: list[str]) -> int:
    """`runner`: the webhook.py module (run_mode, print_result)."""
    import asyncio

    from bench import webhook_servers as servers_of
    from bench import webhook_traffic as w
    from core.config import load_settings

    bare = Path(args.compare).resolve()
    rules = load_bare_rules(bare)
    use_bare_rules(w, rules)
    bare_news = rules.NEWS_KEYWORD
    base = load_settings(args.config)
    people = w.followers(args.followers)
    msg_ids = iter(range(int(time.time() * 1000) * 1000, 2**63, 10**7))
    database = args.database
    if database.startswith("postgresql"):
        asyncio.run(servers_of.ensure_pg_database(database))
    rounds: list[dict[str, dict[str, dict]]] = []
    invalid = 0
    for n in range(1, (args.rounds or ROUNDS) + 1):
        row: dict[str, dict[str, dict]] = {}
        for name in ("bare", "ours", "bare again"):
            # The news rule's word, for this server (see the docstring); the pools are built per run.
            w.NEWS_KEYWORD = w.SENDS["news"] = bare_news if name != "ours" else OUR_NEWS_KEYWORD
            workdir = Path(tempfile.mkdtemp(prefix="bench-compare-"))
            port = servers_of.free_port()
            config = workdir / "config.toml"
            servers_of.write_config(config, base, port, database or f"sqlite+aiosqlite:///{workdir / 'bench.db'}", args.redis)
            settings = load_settings(config, environ={})
            url = f"http://127.0.0.1:{port}{settings.server.webhook_path}"
            servers = (BareServer(bare, port, settings.wechat, args.processes, workdir) if name != "ours"
                       else servers_of.Servers(config, args.processes, workdir, args.without))
            off = f", without {args.without}" if name == "ours" and args.without else ""
            print(f"round {n}, {name} ({args.processes} process(es){off}); load average {os.getloadavg()[0]:.2f}",
                  flush=True)
            args.contacted = 0
            try:
                servers.start()
                asyncio.run(servers_of.wait_ready(url, settings.wechat.token, servers))
                expected = asyncio.run(w.calibrate(url, settings, "plain"))
                row[name] = {}
                for mode in modes:
                    r = runner.run_mode(mode, url, settings, expected, args, workdir, msg_ids, people,
                                        pids=[p.pid for p in servers.procs])
                    row[name][mode] = r
                    invalid += r["invalid"]
                    runner.print_result(r, args)
                    args.contacted += r["warm_requests"] + r["replies"]
            finally:
                servers.stop()
                shutil.rmtree(workdir, ignore_errors=True)
        rounds.append(row)
    print_summary(rounds, modes)
    return 0 if invalid == 0 else 1


def print_summary(rounds: list[dict], modes: list[str]) -> None:
    print(f"\nmedians of {len(rounds)} rounds (ratio: ours / mean of the bare runs before and after it):")
    for mode in modes:
        ratios = []
        for row in rounds:
            bare_rps = (row["bare"][mode]["rps"] + row["bare again"][mode]["rps"]) / 2
            ratios.append(row["ours"][mode]["rps"] / bare_rps)
        med = {name: statistics.median(row[name][mode]["rps"] for row in rounds)
               for name in ("bare", "ours", "bare again")}
        p99 = {name: statistics.median(row[name][mode]["p99"] for row in rounds) for name in ("bare", "ours")}
        # CPU per reply: what each server spent, whatever share of the cores the others left it.
        cpu = {name: statistics.median(row[name][mode]["cpu_ms"] or 0 for row in rounds)
               for name in ("bare", "ours", "bare again")}
        print(f"{mode:>5}: bare {med['bare']:,.0f}/s, ours {med['ours']:,.0f}/s, bare again {med['bare again']:,.0f}/s;"
              f" ratio {statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)});"
              f" p99 bare {p99['bare']:.1f} ms, ours {p99['ours']:.1f} ms;"
              f" server CPU per reply bare {cpu['bare']:.2f} ms, ours {cpu['ours']:.2f} ms,"
              f" bare again {cpu['bare again']:.2f} ms")
