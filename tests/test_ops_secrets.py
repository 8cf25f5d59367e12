"""No secret in any log line or HTTP answer: every `main.py` command and the webhook run with
distinctive secrets (AppSecret, token, EncodingAESKey), against the local platform (whose access
tokens are read back from its state), with the members' demo data; no log line (the formatted JSON
lines, the raw records, the subprocesses' output), no command's output and no HTTP answer holds a
secret or an access token, and no log line or webhook answer holds a member's phone number."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import sqlite3
import sys

import aiohttp

import main
from core import logs
from tests.scheduler_procs import ROOT, to_toml
from tests.webhook_helpers import signed_query

SECRET = "AppSecretH16zq9XwvU"
TOKEN = "TokenH16zq9Xw"
AES = "H16aesKEYzq9Xw" + "k" * 29
PASSWORD = "Console-Pw-h16-Zq9xT"  # an editor's, typed on standard input
SANDBOX, SERVE, METRICS = 19520, 19521, 19522


def config(tmp) -> dict:
    return {
        "wechat": {"appid": "wxh16secrets0001", "secret": SECRET, "token": TOKEN, "encoding_aes_key": AES,
                   "mode": "safe", "account_id": "gh_h16secrets01", "api_base_url": f"http://127.0.0.1:{SANDBOX}"},
        "server": {"port": SERVE, "metrics_port": METRICS},
        "database": {"url": f"sqlite+aiosqlite:///{tmp / 'bot.db'}"},
        "sandbox": {"port": SANDBOX, "state_path": str(tmp / "sandbox.json"), "mode": "safe"},
        "content": {"media_dir": str(tmp / "media")},
        "scheduler": {"tick_seconds": 1.0, "slots": {d: ["08:00", "20:00"] for d in
                                                     ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}},
        "editors": {"openids": ["o_editor_h16"]},
        "log": {"format": "json"},
    }


def commands(tmp, unit: str, article: int) -> list[list[str]]:
    page = tmp / "page.html"
    page.write_text("<html><head><title>测试新闻</title></head><body><h1>测试新闻</h1>"
                    "<p>2026-05-01</p><p>正文" + "内容" * 80 + "</p></body></html>", encoding="utf-8")
    return [
        ["db", "upgrade"], ["demo", "load"], ["menu", "sync", "--dry-run"], ["menu", "sync"],
        ["keywords", "list"], ["keywords", "add", "联系我们", "--reply", "电话请见官网"], ["keywords", "test", "联系我们"],
        ["keywords", "remove", "1"],
        ["sandbox", "say", "--openid", "o_h16_follower", "--wait", "3", "帮助"],
        ["sandbox", "say", "--openid", "o_h16_follower", "--wait", "3", f"会员 {unit}"],
        ["log", "tail"], ["followers", "forget", "o_nobody"],
        ["members", "list"], ["members", "stats"], ["members", "show", unit],
        ["members", "export", str(tmp / "members.xlsx")], ["members", "import", str(tmp / "members.xlsx"), "--dry-run"],
        ["members", "bind-code", unit], ["members", "bindings", unit], ["members", "unbind", unit, "o_nobody"],
        ["news", "import", str(page)], ["news", "list"], ["news", "search", "新闻"], ["news", "show", str(article)],
        ["news", "edit", str(article), "--digest", "摘要"], ["news", "ready", str(article)],
        ["push", "create", "--articles", str(article), "--next-slot"], ["push", "list"], ["push", "show", "1"],
        ["push", "edit", "1", "--preview"], ["push", "preview", "1", "--to", "o_editor_h16"],
        ["push", "approve", "1"], ["push", "run"], ["push", "send-now", "1", "--yes"], ["push", "run"],
        ["push", "retry", "1"], ["push", "ack", "1"], ["push", "withdraw", "1", "--yes"], ["push", "cancel", "1"],
        ["push", "compose"], ["members", "retire", unit],
        ["news", "sources"], ["stats", "fetch"], ["stats", "report", "--year", "2026"], ["urls"],
        ["editors", "add", "h16_editor", "--role", "editor", "--password-stdin"], ["editors", "list"],
        ["editors", "passwd", "h16_editor", "--password-stdin"], ["editors", "disable", "h16_editor"],
        ["editors", "enable", "h16_editor"],
        ["db", "backup", str(tmp / "b.tar")], ["db", "restore", str(tmp / "b.tar")],
    ]


def leaves(parser, prefix=()) -> set[tuple[str, ...]]:
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set().union(*(leaves(p, (*prefix, n)) for n, p in action.choices.items()))
    return {prefix}


def _log_file(path):
    return open(path, "wb")  # closed with the process


async def start(argv: list[str], path) -> asyncio.subprocess.Process:
    import os

    out = _log_file(path)
    return await asyncio.create_subprocess_exec(sys.executable, "main.py", *argv, cwd=ROOT, stdout=out,
                                                stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"})


async def until_up(port: int, path: str = "/") -> None:
    for _ in range(400):
        try:
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
                await r.read()
                return
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"nothing on port {port}")


async def test_no_secret_in_any_log_line_or_answer(tmp_path, capsys, caplog):
    cfg = tmp_path / "config.toml"
    menu = '[[menu.button]]\nname = "帮助"\ntype = "click"\nkey = "HELP"\n'
    cfg.write_text(to_toml(config(tmp_path)) + menu, encoding="utf-8")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())  # no secrets given: shows what the call sites wrote
    logging.getLogger().addHandler(handler)
    caplog.set_level(logging.INFO)
    outputs: list[str] = []

    async def run(*argv: str) -> int:
        sys.stdin = io.StringIO(PASSWORD + "\n")  # what `--password-stdin` reads
        code = await asyncio.to_thread(main.main, [*argv, "--config", str(cfg)])
        captured = capsys.readouterr()
        outputs.append(f"$ {' '.join(argv)} → {code}\n{captured.out}{captured.err}")
        return code

    procs, stdin = [], sys.stdin
    try:
        assert await run("db", "upgrade") == 0 and await run("demo", "load") == 0
        con = sqlite3.connect(tmp_path / "bot.db")
        unit, = con.execute("SELECT name FROM members ORDER BY id LIMIT 1").fetchone()
        phones = [p for (p,) in con.execute("SELECT contact_phone FROM members WHERE contact_phone != ''")]
        article, = con.execute("SELECT min(id) FROM articles").fetchone()
        con.close()
        assert phones
        procs.append(await start(["sandbox", "serve", "--config", str(cfg)], tmp_path / "sandbox.out"))
        await until_up(SANDBOX)
        procs.append(await start(["serve", "--config", str(cfg)], tmp_path / "serve.out"))
        await until_up(METRICS, "/healthz")
        table = commands(tmp_path, unit, article)
        covered = {tuple(a for a in argv if not a.startswith("-") and a not in (unit, str(article)))[:2]
                   for argv in table} | {("serve",), ("sandbox", "serve")}
        assert {c for c in leaves(main.build_parser()) if c not in covered} == set()
        codes = {" ".join(argv): await run(*argv) for argv in table[2:]}
        assert codes["sandbox say --openid o_h16_follower --wait 3 帮助"] == 0
        assert codes["editors add h16_editor --role editor --password-stdin"] == 0  # the password was taken
        assert codes["editors passwd h16_editor --password-stdin"] == 0
        answers = []
        async with aiohttp.ClientSession() as http:
            for path in ("/metrics", "/healthz", "/readyz"):
                async with http.get(f"http://127.0.0.1:{METRICS}{path}") as r:
                    answers.append(await r.text())
            # The webhook's own answers: a refused request, and WeChat's URL check.
            async with http.post(f"http://127.0.0.1:{SERVE}/wechat", params=signed_query("wrong"), data="<xml/>") as r:
                answers.append(await r.text())
            q = {**signed_query(TOKEN), "echostr": "echo-h16"}
            async with http.get(f"http://127.0.0.1:{SERVE}/wechat", params=q) as r:
                answers.append(await r.text())
        assert answers[-1] == "echo-h16" and '"ready": true' in answers[2].replace('":true', '": true')
    finally:
        for p in procs:
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            await asyncio.wait_for(p.wait(), 30)
        logging.getLogger().removeHandler(handler)
        sys.stdin = stdin
    state = json.loads((tmp_path / "sandbox.json").read_text(encoding="utf-8"))
    tokens = list(state["tokens"])
    assert tokens  # the bot fetched some
    lines = (stream.getvalue() + (tmp_path / "serve.out").read_text(encoding="utf-8")
             + (tmp_path / "sandbox.out").read_text(encoding="utf-8")).splitlines()
    lines += [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    served = [json.loads(line) for line in (tmp_path / "serve.out").read_text(encoding="utf-8").splitlines()
              if line.startswith("{")]
    assert served and all({"ts", "level", "logger", "message"} <= set(s) for s in served)  # [log] format = "json"
    everything = "\n".join(lines + outputs + answers)
    for secret in (SECRET, TOKEN, AES, PASSWORD, *tokens):
        assert secret not in everything, secret
    said = "\n".join(lines + answers + [o for o in outputs if o.startswith("$ sandbox say")])
    for phone in phones:
        assert phone not in said, phone


def test_the_formatters_take_out_what_slipped_through(make_settings):
    settings = make_settings(database={"url": "postgresql+asyncpg://bot:Pw%2Dh16zq9@127.0.0.1/bot"})
    secrets = logs.secrets_of(settings)
    assert {"Pw-h16zq9", settings.wechat.secret, settings.wechat.token} <= set(secrets)
    record = logging.LogRecord("bot.x", logging.WARNING, __file__, 1,
                               "GET /cgi-bin/x?access_token=ACCESS123&a=1 pw=%s phone %s secret %s", (
                                   "Pw-h16zq9", "13912345678", settings.wechat.secret), None)
    record.user, record.msg_id, record.push_id = logs.hashed("o_abc"), "123", 7
    for formatter in (logs.JsonFormatter(secrets), logs.TextFormatter(secrets)):
        line = formatter.format(record)
        assert "ACCESS123" not in line and "Pw-h16zq9" not in line and "13912345678" not in line
        assert settings.wechat.secret not in line and "139****5678" in line and "\n" not in line
        assert logs.hashed("o_abc") in line and "o_abc" not in line and "123" in line
    parsed = json.loads(logs.JsonFormatter(secrets).format(record))
    assert (parsed["level"], parsed["push_id"], parsed["msg_id"], parsed["ts"][-1]) == ("WARNING", 7, "123", "Z")
    assert logs.about(openid="o_abc", msg_key="m:42", push_id=3) == {"user": logs.hashed("o_abc"), "msg_id": "42",
                                                                      "push_id": 3}


def test_a_database_password_shows_nowhere(pg_url, tmp_path, capsys, caplog):
    """PostgreSQL with a password in the URL (the test server trusts loopback, so any password will
    do): the commands, pg_dump and pg_restore, and a database that does not answer."""
    import traceback

    password = "Pw-h16-Zq9xT"
    url = pg_url.replace("://root@", f"://root:{password}@")
    assert password in url
    down = url.replace("127.0.0.1:5432", "127.0.0.1:19599")
    caplog.set_level(logging.INFO)
    seen: list[str] = []
    for db, argv in [(url, ["db", "upgrade"]), (url, ["demo", "load"]), (url, ["log", "tail"]),
                     (url, ["db", "backup", str(tmp_path / "pg.tar")]), (url, ["db", "restore", str(tmp_path / "pg.tar")]),
                     (down, ["log", "tail"]), (down, ["db", "backup", str(tmp_path / "x.tar")])]:
        cfg = config(tmp_path)
        cfg["database"]["url"] = db
        path = tmp_path / "pg.toml"
        path.write_text(to_toml(cfg), encoding="utf-8")
        try:
            code = main.main([*argv, "--config", str(path)])
        except Exception:
            code = "raised"
            seen.append(traceback.format_exc())
        captured = capsys.readouterr()
        seen.append(f"$ {' '.join(argv)} → {code}\n{captured.out}{captured.err}")
    seen += [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    text = "\n".join(seen)
    assert "已备份到" in text and "目标数据库已有数据" in text  # the commands did their work…
    assert password not in text  # …and the password shows nowhere
