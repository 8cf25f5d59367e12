"""Slow bodies: a sender whose Content-Length promises more than it sends is cut off within
`[server] body_timeout_seconds`, and a `main.py serve` process stopped by SIGTERM with such
uploads in flight exits within seconds (after writing its message log)."""

from __future__ import annotations

import asyncio
import signal
import time

from sqlalchemy import func, select

from core.config import parse_settings
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.models.webhook import MessageLog
from tests.conftest import base_config
from tests.scheduler_procs import Serve, free_port, to_toml
from tests.webhook_helpers import signed_query, text_xml, webhook_client
from tests.webhook_support import make_services


def head(path: str, query: dict, length: int) -> bytes:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return (f"POST {path}?{q} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


async def slow_upload(host: str, port: int, path: str, token: str, body: bytes, sent: int):
    """A signed request that sends `sent` bytes of its body and then nothing more."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(head(path, signed_query(token), len(body)) + body[:sent])
    await writer.drain()
    return reader, writer


async def test_a_body_that_does_not_arrive_is_answered_408_within_the_bound(make_settings, migrated):
    async with make_services(make_settings, migrated, server={"body_timeout_seconds": 1.0}) as services:
        async with webhook_client(services) as hook:
            host, port = hook.client.server.host, hook.client.server.port
            body = text_xml("o_slow", "帮助").encode()
            started = time.monotonic()
            reader, writer = await slow_upload(host, port, hook.path, services.settings.wechat.token, body, 40)
            answer = await asyncio.wait_for(reader.read(200), 10)
            elapsed = time.monotonic() - started
            writer.close()
            assert answer.split()[1] == b"408" and 0.9 < elapsed < 2.5, (answer[:60], elapsed)

            # A body that comes in pieces within the bound is a message like any other.
            reader, writer = await slow_upload(host, port, hook.path, services.settings.wechat.token, body, 40)
            await asyncio.sleep(0.3)
            writer.write(body[40:])
            answer = await asyncio.wait_for(reader.read(4000), 10)
            writer.close()
            assert answer.split()[1] == b"200" and "您可以这样使用本公众号".encode() in answer


async def test_sigterm_with_slow_uploads_in_flight_exits_within_seconds(tmp_path):
    port = free_port()
    cfg = base_config(tmp_path, server={"port": port}, scheduler={"enabled": False})
    config = tmp_path / "serve.toml"
    config.write_text(to_toml(cfg), encoding="utf-8")
    settings = parse_settings(cfg, base_dir=tmp_path, environ={})
    await upgrade(settings.database_url)
    serve = Serve(config)
    await serve.start()
    uploads = []
    try:
        await serve.wait_for_log("bot listening")
        token = settings.wechat.token
        # One message answered (its log rows must be written at the stop), then stalled uploads.
        reader, writer = await slow_upload("127.0.0.1", port, "/wechat", token, text_xml("o_ok", "帮助").encode(), 10**6)
        assert (await asyncio.wait_for(reader.read(4000), 10)).split()[1] == b"200"
        writer.close()
        for i in range(8):
            uploads.append(await slow_upload("127.0.0.1", port, "/wechat", token,
                                             text_xml(f"o_up{i}", "帮助" * 50).encode(), 30))
        await asyncio.sleep(0.3)  # they are being read
        started = time.monotonic()
        serve.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(serve.proc.wait(), 15)
        elapsed = time.monotonic() - started
    finally:
        for _, w in uploads:
            w.close()
        await serve.kill()
    assert code == 0 and elapsed < 3.0, (code, elapsed, serve.log()[-2000:])
    engine = make_engine(settings.database_url)
    try:
        async with make_session_factory(engine)() as session:
            logged = await session.scalar(select(func.count()).select_from(MessageLog))
    finally:
        await engine.dispose()
    assert logged == 2  # the answered message and its reply, written before the exit
