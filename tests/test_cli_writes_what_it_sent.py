"""A command run outside `serve` that sends customer-service messages writes what it recorded:
`main.py push run` delivers an editor's notice through the local platform, and after it exits the
editor's window counter and the customer-service line are in the database (the message-log writer
lives as long as the process's services, app.py)."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from sqlalchemy import select

from core.clock import Clock
from core.config import parse_settings
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.models.pushes import Notification, Push
from store.models.webhook import Follower, MessageLog
from tests.conftest import base_config
from tests.scheduler_procs import ROOT, to_toml

EDITOR = "o_editor_cli_0001"
NOTICE = "推送 #1 已起草，请您预览后批准。"


async def test_push_run_outside_serve_writes_the_window_and_the_log_line(tmp_path, sandbox):
    cfg = base_config(tmp_path, wechat={"api_base_url": sandbox.url}, editors={"openids": [EDITOR]},
                      scheduler={"enabled": False})
    config = tmp_path / "cli.toml"
    config.write_text(to_toml(cfg), encoding="utf-8")
    settings = parse_settings(cfg, base_dir=tmp_path, environ={})
    await upgrade(settings.database_url)

    now = Clock().now()
    sandbox.platform.follower_action(EDITOR, "message")  # the editor wrote to the account a minute ago
    engine = make_engine(settings.database_url)
    db = make_session_factory(engine)
    try:
        async with db.begin() as s:
            s.add(Follower(openid=EDITOR, subscribed=True, first_seen=now, last_seen=now,
                           last_message_at=now, message_window_at=now - timedelta(minutes=1),
                           message_window_used=0, event_window_used=0))
            push = Push(kind="publish", state="drafted", planned_at=now + timedelta(days=2), next_run_at=None)
            s.add(push)
            await s.flush()
            s.add(Notification(push_id=push.id, openid=EDITOR, kind="drafted", text=NOTICE, status="pending",
                               created_at=now))

        proc = await asyncio.create_subprocess_exec(
            sys.executable, "main.py", "push", "run", "--config", str(config), cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, output.decode()
        assert [m["payload"]["content"] for m in sandbox.platform.state["cs_messages"]] == [NOTICE]

        async with db() as s:
            editor = await s.get(Follower, EDITOR)
            lines = list(await s.scalars(select(MessageLog).where(MessageLog.openid == EDITOR)))
        assert editor.message_window_used == 1  # the quota it spent, as the next process must know
        assert [(r.direction, r.channel, r.content) for r in lines] == [("out", "customer", NOTICE)]
    finally:
        await engine.dispose()
