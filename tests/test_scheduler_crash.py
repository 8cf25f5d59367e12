"""Crash safety: a real `main.py serve` is SIGKILLed before, during and after each WeChat call of the
pipeline, then started again; exactly one publish or broadcast reaches the local platform and the push
ends done.

Kill points: "before:X"/"after:X" are the pipeline's checkpoints (`[scheduler] pause_at` makes the
process stop there and log it: after:X means WeChat answered and the answer is not yet stored);
"during:ENDPOINT" holds that call in the platform (a latency fault) and kills while it is in flight;
"submitted" kills right after the submit was stored, before the job-finish event arrives.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import open_services
from core.config import parse_settings
from scheduler import editing
from store.migrate import upgrade
from store.models.pushes import Push
from tests.conftest import base_config
from tests.scheduler_procs import Serve, free_port, to_toml
from tests.scheduler_support import EDITOR, FAST, Env

PUBLISH_POINTS = [
    "before:uploads", "during:media/uploadimg", "during:material/add_material", "before:draft_add",
    "during:draft/add", "after:draft_add", "before:submit", "during:freepublish/submit", "after:submit",
    "submitted",
]
BROADCAST_POINTS = ["before:submit", "during:message/mass/sendall", "after:submit", "submitted"]
LATENCY = 2.0  # a held call; shorter than publish_settle_seconds, as a real in-flight call would be


def write_config(tmp_path, sandbox, port: int, pause_at: list[str]):
    cfg = base_config(
        tmp_path,
        wechat={"api_base_url": sandbox.url},
        server={"port": port},
        scheduler={**FAST, "auto_approve": True, "claim_seconds": 1.0, "publish_settle_seconds": 5.0,
                   "tick_seconds": 0.1, "pause_at": pause_at},
        editors={"openids": [EDITOR]},
    )
    path = tmp_path / "config.toml"
    path.write_text(to_toml(cfg), encoding="utf-8")
    return path, parse_settings(cfg, base_dir=tmp_path, environ={})


async def wait_state(services, push_id: int, states: tuple[str, ...], timeout: float = 30.0) -> Push:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with services.db() as s:
            push = await s.scalar(select(Push).where(Push.id == push_id))
        if push.state in states:
            return push
        if loop.time() > deadline:
            raise AssertionError(f"push {push_id} stuck in {push.state} ({push.error_reason})")
        await asyncio.sleep(0.05)


# The upload and draft steps are the same code for both kinds: killed there once, with a publish.
CASES = [("publish", p) for p in PUBLISH_POINTS] + [("broadcast", p) for p in BROADCAST_POINTS]


@pytest.mark.parametrize(("kind", "point"), CASES, ids=[f"{k}-{p}" for k, p in CASES])
async def test_kill_and_restart(sandbox_factory, tmp_path, kind, point):
    sandbox = await sandbox_factory(publish_delay=0.3)
    sandbox.platform.set_follower(EDITOR)
    port = free_port()
    sandbox.set_webhook(f"http://127.0.0.1:{port}/wechat")
    pause = [point] if ":" in point and not point.startswith("during:") else []
    config, settings = write_config(tmp_path, sandbox, port, pause)
    await upgrade(settings.database_url)

    async with open_services(settings) as services:
        env = Env(services, sandbox, runner=None)
        ids = await env.articles(2, images=2)
        spec = editing.PushSpec(article_ids=ids, kind=kind, at=services.clock.now() + timedelta(seconds=1))
        push = await editing.create(services, spec)

        serve = Serve(config)
        if point.startswith("during:"):
            endpoint = point.removeprefix("during:")
            sandbox.platform.add_fault(endpoint, latency=LATENCY)
        await serve.start()
        try:
            if pause:
                await serve.wait_for_log(f"pipeline paused at {point}")
            elif point == "submitted":
                await wait_state(services, push.id, ("submitted", "done"))
            else:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 20
                while not sandbox.calls(endpoint):
                    assert loop.time() < deadline, serve.log()[-3000:]
                    await asyncio.sleep(0.01)
        finally:
            await serve.kill()

        write_config(tmp_path, sandbox, port, [])
        again = Serve(config, name="serve2")
        await again.start()
        try:
            done = await wait_state(services, push.id, ("done", "failed"))
        finally:
            await again.stop()
        assert done.state == "done", f"{done.error_reason}\n{again.log()[-3000:]}"

    state = sandbox.platform.state
    if kind == "publish":
        assert len(state["publishes"]) == 1, state["publishes"]
        (pub,) = state["publishes"].values()
        assert pub["status"] == 0 and done.article_id == pub["article_id"]
    else:
        assert len(state["mass"]) == 1, state["mass"]
        (mass,) = state["mass"].values()
        assert mass["status"] == "sent" and done.msg_id == str(mass["msg_id"])
        assert {c["params"]["body"]["clientmsgid"] for c in sandbox.calls("message/mass/sendall")} == {f"push-{push.id}-1"}
