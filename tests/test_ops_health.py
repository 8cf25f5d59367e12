"""/healthz and /readyz, down and up: each check says what is wrong in words, without a secret, and
the answer comes within milliseconds when all is well and within the checks' bound when not."""

from __future__ import annotations

import time

import aiohttp

from app import start_ops_site
from core import metrics
from ops import health
from store.shared import RedisState
from tests.webhook_support import make_services

PORT = 19510  # this helper's range


async def get(path: str) -> tuple[int, dict, float]:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{PORT}{path}") as resp:
        return resp.status, await resp.json(), time.perf_counter() - started


async def test_ready_when_everything_answers(make_settings, migrated, sandbox):
    async with make_services(make_settings, migrated, wechat={"api_base_url": sandbox.url},
                             server={"metrics_port": PORT}) as services:
        await services.shared.set(metrics.HEARTBEAT_KEY, str(services.clock.time()))
        site = await start_ops_site(services)
        try:
            await get("/readyz")  # the first fetches the token
            status, body, elapsed = await get("/readyz")
            assert status == 200 and body["ready"] is True
            assert set(body["checks"]) == {"database", "scheduler", "token"}  # no [redis] url: no check
            assert all(c["ok"] and "error" not in c for c in body["checks"].values())
            assert elapsed < 0.5  # milliseconds here; a loaded machine allowed for
            status, body, elapsed = await get("/healthz")
            assert (status, body) == (200, {"alive": True}) and elapsed < 0.5
        finally:
            await site.cleanup()


async def test_not_ready_says_what_is_down(make_settings, migrated, tmp_path):
    # The database is a folder, not a file; Redis is a closed port, WeChat does not
    # answer, and no scheduler ever ticked.
    down = RedisState.from_url(f"redis://127.0.0.1:{PORT + 1}/0")
    (tmp_path / "folder.db").mkdir()
    gone = f"sqlite+aiosqlite:///{tmp_path / 'folder.db'}"
    async with make_services(make_settings, gone, shared=down, redis={"url": f"redis://127.0.0.1:{PORT + 1}/0"},
                             wechat={"api_base_url": f"http://127.0.0.1:{PORT + 2}",
                                     "secret": "S3cr3t-AppSecret-h16"}) as services:
        started = time.perf_counter()
        body = await health.readiness(services)
        elapsed = time.perf_counter() - started
    assert body["ready"] is False and elapsed < health.CHECK_SECONDS + 0.4
    checks = body["checks"]
    assert set(checks) == {"database", "redis", "scheduler", "token"}
    assert not any(c["ok"] for c in checks.values()), checks
    assert "unable to open database file" in checks["database"]["error"]
    assert "Connect call failed ('127.0.0.1', 19511)" in checks["redis"]["error"]
    assert "Connect call failed" in checks["scheduler"]["error"]  # its heartbeat is in Redis
    assert "Connect call failed" in checks["token"]["error"]  # and so is the token
    assert "S3cr3t" not in str(body)


async def test_a_stale_heartbeat_and_a_refused_secret(make_settings, migrated, sandbox):
    async with make_services(make_settings, migrated, wechat={"api_base_url": sandbox.url,
                                                              "secret": "wrong-secret-h16"}) as services:
        limit = health.heartbeat_stale_after(services.settings)
        await services.shared.set(metrics.HEARTBEAT_KEY, str(services.clock.time() - limit - 5))
        body = await health.readiness(services)
    checks = body["checks"]
    assert checks["database"] == {"ok": True, "ms": checks["database"]["ms"]}
    assert checks["scheduler"]["error"].startswith(f"the scheduler last ticked {limit + 5:.0f} s ago")
    assert checks["token"]["ok"] is False and "FatalCredentials" in checks["token"]["error"]
    assert "wrong-secret-h16" not in str(body)


async def test_no_heartbeat_and_no_answer_from_wechat(make_settings, migrated):
    async with make_services(make_settings, migrated, wechat={"api_base_url": f"http://127.0.0.1:{PORT + 2}"}) as services:
        started = time.perf_counter()
        body = await health.readiness(services)
        assert time.perf_counter() - started < health.CHECK_SECONDS + 0.4
        assert body["checks"]["scheduler"]["error"] == "no scheduler has ticked yet"
        assert body["checks"]["token"]["error"] == "no answer within 500 ms"  # it retries meanwhile
        await services.shared.set(metrics.HEARTBEAT_KEY, str(services.clock.time()))
        body = await health.readiness(services)
    assert body["checks"]["scheduler"]["ok"] and body["checks"]["database"]["ok"] and not body["ready"]
