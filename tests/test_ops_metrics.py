"""Metrics after known traffic: the webhook's latency histogram, replies by kind, a deadline fallback,
a dedupe hit, a handler error, customer-service sends, WeChat API calls by endpoint and errcode, a
token refresh; and the /metrics page itself (pushes by state, outbox depth, heartbeat age) off the
webhook's path. Counters live for the whole test process, so each test reads what changed."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.router import Router
from core import metrics
from ops.server import ops_app
from ops.summary import webhook_summary
from tests.webhook_helpers import text_xml, webhook_client
from tests.webhook_support import make_services

BUDGET = 0.6
FAST = {"server": {"reply_budget_seconds": BUDGET, "body_timeout_seconds": 0.3}, "log": {"flush_seconds": 0.1}}

NAMES = [
    ("wxbot_webhook_seconds_count", {}),
    ("wxbot_webhook_requests_total", {"status": "200"}),
    ("wxbot_webhook_requests_total", {"status": "403"}),
    ("wxbot_replies_total", {"kind": "text"}),
    ("wxbot_replies_total", {"kind": "success"}),
    ("wxbot_deadline_fallbacks_total", {"answer": "success"}),
    ("wxbot_dedupe_hits_total", {"where": "memory"}),
    ("wxbot_handler_errors_total", {"handler": "broken"}),
    ("wxbot_customer_sends_total", {"outcome": "sent"}),
    ("wxbot_wechat_calls_total", {"endpoint": "message/custom/send", "errcode": "0"}),
    ("wxbot_wechat_calls_total", {"endpoint": "stable_token", "errcode": "0"}),
    ("wxbot_token_refreshes_total", {"forced": "false"}),
    ("wxbot_webhook_seconds_bucket", {"le": "4.5"}),
    ("wxbot_webhook_seconds_sum", {}),
]


def snapshot() -> dict[tuple, float]:
    return {(n, tuple(sorted(lab.items()))): metrics.sample(n, lab) for n, lab in NAMES}


def routers() -> list[Router]:
    r = Router("test")

    @r.exact("慢")
    async def slow(message, ctx):
        await asyncio.sleep(BUDGET + 0.2)
        from wechat.replies import Text
        return Text("迟到的回复")

    @r.exact("坏")
    async def broken(message, ctx):
        raise RuntimeError("boom")

    @r.message("text")
    async def echo(message, ctx):
        from wechat.replies import Text
        return Text("收到")

    return [r]


async def test_counters_after_known_traffic(make_settings, migrated, sandbox):
    before = snapshot()
    async with make_services(make_settings, migrated, wechat={"api_base_url": sandbox.url}, **FAST) as services:
        async with webhook_client(services, routers()) as hook:
            sandbox.platform.follower_action("o_m", "message")  # the window for the late reply
            assert (await hook.send(text_xml("o_m", "你好")))["Content"] == "收到"
            retry = text_xml("o_m", "你好", msg_id=424242)
            assert (await hook.send(retry))["Content"] == "收到"
            assert (await hook.send(retry))["Content"] == "收到"  # WeChat's retry: a dedupe hit
            assert (await hook.send(text_xml("o_m", "坏")))["Content"]  # the error text
            assert await hook.send(text_xml("o_m", "慢")) == "success"
            status, _, _ = await hook.post(text_xml("o_m", "你好"), query={"signature": "x", "timestamp": "1",
                                                                          "nonce": "n"})
            assert status == 403
            for _ in range(100):
                if sandbox.platform.state["cs_messages"]:
                    break
                await asyncio.sleep(0.05)
            await services.messagelog.flush()
            summary = await webhook_summary(services)
    after = snapshot()
    delta = {name: after[k] - before[k] for k in before for name in [k[0] + str(dict(k[1]) or "")]}
    assert delta == {
        "wxbot_webhook_seconds_count": 5,
        "wxbot_webhook_requests_total{'status': '200'}": 5,
        "wxbot_webhook_requests_total{'status': '403'}": 1,
        "wxbot_replies_total{'kind': 'text'}": 3,  # two echoes and the error text
        "wxbot_replies_total{'kind': 'success'}": 1,
        "wxbot_deadline_fallbacks_total{'answer': 'success'}": 1,
        "wxbot_dedupe_hits_total{'where': 'memory'}": 1,
        "wxbot_handler_errors_total{'handler': 'broken'}": 1,
        "wxbot_customer_sends_total{'outcome': 'sent'}": 1,  # the late reply
        "wxbot_wechat_calls_total{'endpoint': 'message/custom/send', 'errcode': '0'}": 1,
        "wxbot_wechat_calls_total{'endpoint': 'stable_token', 'errcode': '0'}": 1,
        "wxbot_token_refreshes_total{'forced': 'false'}": 1,
        "wxbot_webhook_seconds_bucket{'le': '4.5'}": 5,  # all within WeChat's budget…
        "wxbot_webhook_seconds_sum": delta["wxbot_webhook_seconds_sum"],
    }
    assert delta["wxbot_webhook_seconds_sum"] >= BUDGET  # …the slow one after its 0.6 s
    # The dashboard's figures: four messages in (the retry is one), three answered within the budget.
    assert (summary.messages, summary.answered, summary.within_budget) == (4, 3, 3)
    assert summary.deadline_fallbacks >= 1 and summary.dedupe_hits >= 1
    assert sandbox.platform.state["cs_messages"][0]["payload"]["content"] == "迟到的回复"


async def test_the_metrics_page_is_off_the_webhook_and_reads_the_data(make_settings, migrated):
    async with make_services(make_settings, migrated) as services:
        await services.shared.set(metrics.HEARTBEAT_KEY, str(services.clock.time() - 7))
        async with TestClient(TestServer(ops_app(services), host="127.0.0.1")) as client:
            resp = await client.get("/metrics")
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
            families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
        async with webhook_client(services) as hook:
            assert (await hook.client.get("/metrics")).status == 404  # not on the public site
    for name in ("wxbot_webhook_seconds", "wxbot_replies", "wxbot_wechat_calls", "wxbot_dedupe_hits",
                 "wxbot_deadline_fallbacks", "wxbot_push_transitions", "wxbot_import_runs"):
        assert name in families
    assert [s.value for s in families["wxbot_scrape_ok"].samples] == [1.0]
    depth = {s.labels["queue"]: s.value for s in families["wxbot_outbox_depth"].samples}
    assert depth == {"held_replies": 0.0, "editor_notices": 0.0}
    age = families["wxbot_scheduler_heartbeat_age_seconds"].samples[0].value
    assert 6.5 < age < 30
    buckets = [s.labels["le"] for s in families["wxbot_webhook_seconds"].samples if s.name.endswith("_bucket")]
    assert {"4.0", "4.5", "5.0", "6.0"} <= set(buckets)  # around the reply budget


def test_several_processes_add_up_in_the_metrics_folder(tmp_path):
    """Multiprocess mode: two processes count in one folder; a third one's /metrics body adds them."""
    import subprocess
    import sys

    count = ("import sys; from core import metrics; metrics.use_directory(sys.argv[1]); "
             "[metrics.REPLIES.labels('text').inc() for _ in range(int(sys.argv[2]))]; "
             "metrics.WEBHOOK_SECONDS.observe(0.2)")
    for n in (3, 4):
        subprocess.run([sys.executable, "-c", count, str(tmp_path), str(n)], check=True, cwd=metrics_root())
    read = ("import sys; from core import metrics; metrics.use_directory(sys.argv[1]); "
            "print(metrics.sample('wxbot_replies_total', {'kind': 'text'}), "
            "metrics.sample('wxbot_webhook_seconds_count'))")
    out = subprocess.run([sys.executable, "-c", read, str(tmp_path)], check=True, capture_output=True,
                         text=True, cwd=metrics_root()).stdout.split()
    assert out == ["7.0", "2.0"]


def metrics_root() -> str:
    from pathlib import Path

    return str(Path(metrics.__file__).resolve().parent.parent)
