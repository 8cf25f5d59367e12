"""`make run` prints the addresses once the servers answer (`main.py urls --wait`), and says clearly
which did not when they do not come up in time or a process exits."""

from __future__ import annotations

import asyncio
import socket
import sys
import time

from aiohttp import web
from aiohttp.test_utils import TestServer

from cli.serve import health_urls, wait_until_up


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_wait_ends_when_every_server_answers_even_one_that_starts_late():
    late = _closed_port()
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    up = web.Application()
    up.router.add_get("/healthz", healthz)
    async with TestServer(up, host="127.0.0.1") as server:
        async def start_late():
            await asyncio.sleep(0.5)
            runner = web.AppRunner(web.Application())  # answers 404: up, as the webhook's root does
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", late).start()
            return runner

        starting = asyncio.create_task(start_late())
        t = time.monotonic()
        down, dead = await wait_until_up({"a": str(server.make_url("/healthz")), "b": f"http://127.0.0.1:{late}/"}, 10)
        runner = await starting
        await runner.cleanup()
    assert (down, dead) == ([], []) and 0.4 < time.monotonic() - t < 5


async def test_a_server_that_never_answers_is_named_after_the_timeout():
    url = f"http://127.0.0.1:{_closed_port()}/"
    t = time.monotonic()
    assert await wait_until_up({"bot": url}, 0.6) == ([url], [])
    assert 0.5 < time.monotonic() - t < 3


async def test_a_watched_process_that_exits_ends_the_wait_at_once():
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await proc.wait()
    url = f"http://127.0.0.1:{_closed_port()}/"
    t = time.monotonic()
    assert await wait_until_up({"bot": url}, 30, [proc.pid]) == ([url], [proc.pid])
    assert time.monotonic() - t < 3


def test_urls_wait_prints_the_failure_in_chinese_and_english_and_fails(make_settings, capsys):
    from cli.serve import _urls

    settings = make_settings(sandbox={"port": _closed_port()}, server={"port": _closed_port(), "metrics_port": 0})
    args = type("Args", (), {"wait": 0.5, "pid": []})()
    assert _urls(args, settings) == 1
    out = capsys.readouterr().out
    assert "服务未能启动" in out and "did not come up" in out and f":{settings.sandbox.port}/" in out
    assert "编辑后台" not in out  # the addresses are printed only once the servers answer


def test_what_is_waited_for_follows_the_config(make_settings):
    settings = make_settings(server={"host": "0.0.0.0", "port": 8123, "metrics_port": 9200},
                             console={"enabled": True, "port": 8124})
    urls = health_urls(settings)
    assert urls["bot"] == "http://127.0.0.1:8123/" and urls["health"] == "http://127.0.0.1:9200/healthz"
    assert urls["console"] == "http://127.0.0.1:8124" + settings.console.path + "/login"
    assert urls["sandbox"].endswith(f":{settings.sandbox.port}/")
