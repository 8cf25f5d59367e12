"""Several scheduler processes on one PostgreSQL database: each push drafted and sent exactly once,
and one auto-drafted push per compose run."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from app import open_services
from core.config import parse_settings
from scheduler import compose, editing
from store.migrate import upgrade
from store.models.pushes import Push
from tests.conftest import base_config
from tests.scheduler_procs import Serve, free_port, to_toml
from tests.scheduler_support import EDITOR, FAST, Env


def config(tmp_path, sandbox, db_url: str, port: int, name: str):
    cfg = base_config(
        tmp_path,
        wechat={"api_base_url": sandbox.url},
        database={"url": db_url},
        server={"port": port},
        scheduler={**FAST, "auto_approve": True, "tick_seconds": 0.2, "concurrency": 4},
        editors={"openids": [EDITOR]},
    )
    path = tmp_path / f"{name}.toml"
    path.write_text(to_toml(cfg), encoding="utf-8")
    return path, parse_settings(cfg, base_dir=tmp_path, environ={})


async def test_two_processes_send_fifty_due_pushes_exactly_once(sandbox_factory, tmp_path, pg_url):
    sandbox = await sandbox_factory(publish_delay=0.1)
    sandbox.platform.set_follower(EDITOR)
    ports = [free_port(), free_port()]
    sandbox.set_webhook(f"http://127.0.0.1:{ports[0]}/wechat")
    paths = []
    for i, port in enumerate(ports):
        path, settings = config(tmp_path, sandbox, pg_url, port, f"p{i}")
        paths.append(path)
    await upgrade(pg_url)

    async with open_services(settings) as services:
        env = Env(services, sandbox, runner=None)
        ids = await env.articles(50, images=1)  # one body image shared by all, 50 covers
        procs = [Serve(path, name=f"serve{i}") for i, path in enumerate(paths)]
        for p in procs:
            await p.start()
        try:
            # Both schedulers ticking before anything is due: else the first one up may take every
            # push before the other starts (it did, on a fast machine), and "both took part" is luck.
            for p in procs:
                await p.wait_for_log(" started (tick ")
            # All due at once: pinned to the same moment, far enough ahead that making fifty pushes
            # (seconds on a loaded machine) does not reach it: a time already past is refused.
            at = services.clock.now() + timedelta(seconds=3)
            pushes = [await editing.create(services, editing.PushSpec(article_ids=[aid], at=at)) for aid in ids]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 90
            while True:
                async with services.db() as s:
                    done = await s.scalar(select(func.count()).select_from(Push).where(Push.state == "done"))
                    bad = (await s.scalars(select(Push).where(Push.state == "failed"))).all()
                assert not bad, [(p.id, p.error_reason) for p in bad]
                if done == len(pushes):
                    break
                assert loop.time() < deadline, f"{done} done\n{procs[0].log()[-2000:]}\n{procs[1].log()[-2000:]}"
                await asyncio.sleep(0.2)
        finally:
            for p in procs:
                await p.stop()

    state = sandbox.platform.state
    assert len(state["publishes"]) == 50
    assert len({p["media_id"] for p in state["publishes"].values()}) == 50
    assert len(sandbox.calls("draft/add")) == 50
    assert len(sandbox.calls("freepublish/submit")) == 50
    assert len(sandbox.calls("media/uploadimg")) == 1  # the shared image, once across both processes
    assert len(sandbox.calls("material/add_material")) == 50
    # Both processes took part, and between them submitted each push once.
    counts = [p.log().count(" submitted by ") for p in procs]
    assert sum(counts) == 50 and all(counts), counts


async def test_two_composers_make_one_push(sandbox, make_settings, pg_url):
    settings = sandbox.settings_for(make_settings, database={"url": pg_url},
                                    scheduler={**FAST, "compose_max_articles": 3})
    await upgrade(pg_url)
    async with open_services(settings) as a, open_services(settings) as b:
        await Env(a, sandbox, runner=None).articles(5)
        key = compose.cron_key(a)
        results = await asyncio.gather(compose.compose(a, key=key), compose.compose(b, key=key),
                                       compose.compose(a, key=key))
        made = [r for r in results if r is not None]
        assert len(made) == 1 and len(made[0].articles) == 3
        # A manual compose with no key takes the next articles; nothing is taken twice.
        results = await asyncio.gather(compose.compose(a), compose.compose(b))
        made += [r for r in results if r is not None]
        taken = [link.article_id for p in made for link in p.articles]
        assert len(taken) == len(set(taken)) == 5
