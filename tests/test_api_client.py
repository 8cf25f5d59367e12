"""The async WeChat API client against the local WeChat platform: token single-flight and recovery, the
retry policy per error code, sends that are never repeated blindly, idempotent mass sends, and metrics.

The client runs on a FakeClock, so backoffs and the 30 s forced-refresh window cost no real time."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from core.clock import FakeClock
from core.shared import SharedState
from store.db import make_engine, make_session_factory
from store.models.shared import SharedEntry
from store.shared import MemoryState, RedisState, SqlState
from tests.fixtures.sandbox import SandboxHandle, make_draft, make_image
from wechat.api import WeChatAPI
from wechat.errors import (
    ContentRejected,
    FatalCredentials,
    OutcomeUnknown,
    PermissionDenied,
    QuotaExceeded,
    TokenInvalid,
    TransientError,
    WindowClosed,
)
from wechat.replies import NewsItem


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def http():
    """A ClientSession that also keeps the request bodies it sends, to check what went on the wire."""
    sent: list[bytes] = []
    trace = aiohttp.TraceConfig()

    async def on_chunk(session, ctx, params) -> None:
        sent.append(params.chunk)

    trace.on_request_chunk_sent.append(on_chunk)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        session.sent = sent
        yield session


@pytest.fixture
def make_api(make_settings, sandbox, http, clock):
    """make_api(shared=None, platform=None, **wechat) → a client of `platform` (default: `sandbox`);
    clients made without `shared` share one MemoryState, like coroutines of one process."""
    one_process = MemoryState(clock)

    def make(shared: SharedState | None = None, platform: SandboxHandle | None = None, **wechat) -> WeChatAPI:
        settings = (platform or sandbox).settings_for(make_settings, wechat=wechat)
        return WeChatAPI(settings.wechat, http, shared or one_process, clock)

    return make


def forced(sandbox: SandboxHandle) -> list[bool]:
    """The force_refresh flag of every stable_token request the platform received, in order."""
    return [bool(c["params"]["body"].get("force_refresh")) for c in sandbox.calls("stable_token")]


# --- the token -----------------------------------------------------------------------------------


async def test_cold_cache_200_concurrent_calls_fetch_one_token(make_api, sandbox):
    api = make_api()
    await asyncio.gather(*(api.tags_get() for _ in range(200)))
    assert len(sandbox.calls("stable_token")) == 1
    assert len(sandbox.calls("tags/get", errcode=0)) == 200


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def shared_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'kv.db'}"
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "redis_url")


@pytest.fixture
async def two_stores(shared_url, clock):
    """Two handles on one shared store, as two processes would hold them."""
    if shared_url.startswith("redis"):
        stores = [RedisState.from_url(shared_url, clock) for _ in range(2)]
        yield stores
        for s in stores:
            await s.close()
        return
    engines = [make_engine(shared_url) for _ in range(2)]
    async with engines[0].begin() as conn:
        await conn.run_sync(SharedEntry.__table__.create)
    yield [SqlState(make_session_factory(e), clock) for e in engines]
    for e in engines:
        await e.dispose()


async def test_two_processes_on_a_shared_store_fetch_one_token(make_api, sandbox, two_stores):
    a, b = make_api(two_stores[0]), make_api(two_stores[1])
    await asyncio.gather(*(x.tags_get() for _ in range(50) for x in (a, b)))
    assert len(sandbox.calls("stable_token")) == 1
    assert len(sandbox.calls("tags/get", errcode=0)) == 100


async def test_token_invalidated_by_another_process_is_recovered_once(make_api, sandbox):
    api = make_api()
    await api.tags_get()
    sandbox.platform.invalidate_token()  # another process forced a refresh; ours dies at once
    await api.tags_get()
    assert forced(sandbox) == [False, True]
    assert [c["errcode"] for c in sandbox.calls("tags/get")] == [0, 40001, 0]


async def test_second_token_failure_raises_instead_of_looping(make_api, sandbox):
    api = make_api()
    await api.tags_get()
    sandbox.platform.add_fault("tags/get", 40001, times=None)  # refused for ever
    with pytest.raises(TokenInvalid):
        await api.tags_get()
    # The first call, the refused one and exactly one retry; one forced refresh.
    assert len(sandbox.calls("tags/get")) == 3
    assert forced(sandbox) == [False, True]


async def test_forced_refresh_at_most_once_per_30s_across_processes(make_api, sandbox, clock):
    shared = MemoryState(clock)
    a, b = make_api(shared), make_api(shared)
    await a.tags_get()
    sandbox.platform.invalidate_token()
    await a.tags_get()  # a forces a refresh
    await b.tags_get()  # b takes a's new token from the shared store
    assert forced(sandbox) == [False, True]
    sandbox.platform.add_fault("tags/get", 40014)
    with pytest.raises(TokenInvalid, match="once per 30 s"):
        await b.tags_get()  # within 30 s: no second force; the normal fetch gives the same token back
    assert forced(sandbox) == [False, True, False]
    clock.advance(31)
    sandbox.advance(31)
    sandbox.platform.add_fault("tags/get", 42001)
    await b.tags_get()
    assert forced(sandbox) == [False, True, False, True]
    assert sandbox.calls("stable_token", errcode=45011) == []  # the platform never saw them too close


async def test_wrong_secret_fails_fast(make_api, sandbox, clock):
    api = make_api(secret="wrong-secret")
    results = await asyncio.gather(*(api.tags_get() for _ in range(20)), return_exceptions=True)
    assert all(isinstance(r, FatalCredentials) for r in results), results
    assert "the AppSecret is invalid: check [wechat] secret" in str(results[0])
    # One token request for all twenty, no call went out, and nothing is asked again for a minute.
    assert len(sandbox.calls("stable_token")) == 1
    assert sandbox.calls("tags/get") == []
    clock.advance(61)
    with pytest.raises(FatalCredentials):
        await api.tags_get()
    assert len(sandbox.calls("stable_token")) == 2


async def test_wrong_appid_names_the_key(make_api, sandbox):
    with pytest.raises(FatalCredentials, match=r"appid is invalid: check \[wechat\] appid"):
        await make_api(appid="wxwrong").tags_get()


async def test_ip_not_whitelisted_is_fatal(make_api, sandbox):
    sandbox.platform.set_whitelisted(False)
    with pytest.raises(FatalCredentials, match="IP whitelist") as e:
        await make_api().tags_get()
    assert e.value.code == 40164


async def test_61004_is_read_as_the_whitelist_too(make_api, sandbox):
    sandbox.platform.add_fault("stable_token", 61004)
    with pytest.raises(FatalCredentials, match="IP whitelist"):
        await make_api().tags_get()
    assert len(sandbox.calls("stable_token")) == 1


# --- the retry policy ----------------------------------------------------------------------------


async def test_busy_backs_off_and_retries(make_api, sandbox, clock):
    api = make_api()
    await api.access_token()
    sandbox.platform.add_fault("tags/get", -1, times=2)
    start = clock.time()
    await api.tags_get()
    assert clock.time() - start == 3  # slept 1 s, then 2 s
    assert [c["errcode"] for c in sandbox.calls("tags/get")] == [-1, -1, 0]


async def test_minute_quota_waits_for_the_next_minute(make_api, sandbox, clock):
    api = make_api()
    await api.access_token()
    clock.advance(17)  # mid-minute
    sandbox.platform.add_fault("tags/get", 45011)
    start = clock.time()
    await api.tags_get()
    assert 0 < clock.time() - start <= 60 and clock.time() % 60 == 0
    assert [c["errcode"] for c in sandbox.calls("tags/get")] == [45011, 0]


async def test_busy_gives_up_after_three_retries(make_api, sandbox):
    sandbox.platform.add_fault("tags/get", -1, times=4)
    with pytest.raises(TransientError) as e:
        await make_api().tags_get()
    assert e.value.code == -1
    assert len(sandbox.calls("tags/get")) == 4


async def test_quota_errors_raise_without_retry(make_api, sandbox):
    api = make_api()
    sandbox.platform.set_quota("tags/get", 0)
    with pytest.raises(QuotaExceeded) as e:
        await api.tags_get()
    assert e.value.code == 45009 and len(sandbox.calls("tags/get")) == 1

    sandbox.platform.set_follower("o1")
    sandbox.platform.set_follower("o2")
    await api.mass_sendall(await make_draft(sandbox), clientmsgid="push-1-1")
    with pytest.raises(QuotaExceeded) as e:  # a subscription account broadcasts once a day
        await api.mass_sendall(await make_draft(sandbox), clientmsgid="push-2-1")
    assert e.value.code == 45028
    assert len(sandbox.calls("message/mass/sendall")) == 2


async def test_window_errors_raise_without_retry(make_api, sandbox):
    api = make_api()
    sandbox.platform.set_follower("o1")  # following, but said nothing: no window
    with pytest.raises(WindowClosed) as e:
        await api.send_text("o1", "你好")
    assert e.value.code == 45015
    sandbox.platform.follower_action("o1", "click")  # 3 messages within a minute
    for _ in range(3):
        await api.send_text("o1", "你好")
    with pytest.raises(WindowClosed) as e:
        await api.send_text("o1", "你好")
    assert e.value.code == 45047
    assert len(sandbox.calls("message/custom/send")) == 5


async def test_unverified_account_is_permission_denied(make_api, sandbox_factory):
    unverified = await sandbox_factory(wechat={"verified": False})
    with pytest.raises(PermissionDenied) as e:
        await make_api(platform=unverified).publish_submit("no-such-draft")
    assert e.value.code == 48001
    assert len(unverified.calls("freepublish/submit")) == 1


async def test_bad_media_is_content_rejected(make_api, sandbox):
    sandbox.platform.follower_action("o1", "message")
    with pytest.raises(ContentRejected) as e:
        await make_api().send_image("o1", "no-such-media")
    assert e.value.code == 40007


# --- sends are never repeated blindly ------------------------------------------------------------


async def test_dropped_send_is_outcome_unknown_and_not_retried(make_api, sandbox):
    sandbox.platform.follower_action("o1", "message")
    sandbox.platform.add_fault("message/custom/send", drop=True)
    with pytest.raises(OutcomeUnknown, match="outcome is unknown"):
        await make_api().send_text("o1", "你好")
    assert len(sandbox.calls("message/custom/send")) == 1


async def test_timed_out_send_is_outcome_unknown_though_it_happened(make_api, sandbox):
    sandbox.platform.follower_action("o1", "message")
    sandbox.platform.add_fault("message/custom/send", latency=0.3)
    with pytest.raises(OutcomeUnknown):
        await make_api(timeout_seconds=0.05).send_text("o1", "你好")
    # Why it must not be retried: the platform went on and delivered it.
    for _ in range(100):
        if sandbox.platform.state["cs_messages"]:
            break
        await asyncio.sleep(0.01)
    assert [m["payload"]["content"] for m in sandbox.platform.state["cs_messages"]] == ["你好"]
    assert len(sandbox.calls("message/custom/send")) == 1


async def test_busy_on_publish_submit_is_outcome_unknown(make_api, sandbox):
    media_id = await make_draft(sandbox)
    sandbox.platform.add_fault("freepublish/submit", -1)
    with pytest.raises(OutcomeUnknown) as e:
        await make_api().publish_submit(media_id)
    assert e.value.code == -1
    assert len(sandbox.calls("freepublish/submit")) == 1


async def test_dropped_idempotent_call_is_retried(make_api, sandbox):
    media_id = await make_draft(sandbox)
    sandbox.platform.add_fault("draft/get", drop=True)
    draft = await make_api().draft_get(media_id)
    assert draft["news_item"][0]["title"] == "测试文章1"
    assert len(sandbox.calls("draft/get")) == 2


async def test_mass_sendall_resent_with_its_clientmsgid_returns_the_first_msg_id(make_api, sandbox):
    sandbox.platform.set_follower("o1")
    sandbox.platform.set_follower("o2")
    api = make_api()
    media_id = await make_draft(sandbox)
    first = await api.mass_sendall(media_id, clientmsgid="push-7-1")
    assert first["duplicate"] is False and first["msg_id"]
    again = await api.mass_sendall(media_id, clientmsgid="push-7-1")
    assert again == {**first, "duplicate": True}
    assert [c["errcode"] for c in sandbox.calls("message/mass/sendall")] == [0, 45065]
    assert len(sandbox.platform.state["mass"]) == 1


async def test_mass_sendall_with_clientmsgid_is_retried_after_a_drop(make_api, sandbox):
    sandbox.platform.set_follower("o1")
    sandbox.platform.set_follower("o2")
    media_id = await make_draft(sandbox)
    sandbox.platform.add_fault("message/mass/sendall", drop=True)
    result = await make_api().mass_sendall(media_id, clientmsgid="push-8-1")
    assert result["msg_id"] and result["duplicate"] is False
    assert len(sandbox.calls("message/mass/sendall")) == 2
    assert len(sandbox.platform.state["mass"]) == 1


async def test_mass_sendall_without_clientmsgid_is_not_retried(make_api, sandbox):
    media_id = await make_draft(sandbox)
    sandbox.platform.add_fault("message/mass/sendall", drop=True)
    with pytest.raises(OutcomeUnknown):
        await make_api().mass_sendall(media_id, clientmsgid=None)
    assert len(sandbox.calls("message/mass/sendall")) == 1


# --- the wire --------------------------------------------------------------------------------------


async def test_json_is_sent_as_real_utf8(make_api, sandbox, http):
    sandbox.platform.follower_action("o1", "message")
    await make_api().send_news("o1", NewsItem("会员风采", "等级评估", "http://127.0.0.1/a"))
    body = b"".join(http.sent)
    assert "会员风采".encode() in body and b"\\u" not in body
    assert sandbox.platform.state["cs_messages"][0]["payload"]["articles"][0]["title"] == "会员风采"


async def test_uploads_are_multipart_media_and_reach_the_configured_base(make_api, sandbox):
    api = make_api()
    url = await api.upload_image(make_image("PNG"), "body.png")
    assert url.startswith(sandbox.url)
    media_id, thumb_url = await api.add_material(make_image(), "cover.jpg", type="thumb")
    assert media_id and thumb_url == ""
    media_id, image_url = await api.add_material(make_image(), "cover.jpg")
    assert media_id and image_url
    assert [c["params"]["files"]["media"]["filename"] for c in sandbox.calls("media/uploadimg")] == ["body.png"]
    assert {c["params"]["query"]["type"] for c in sandbox.calls("material/add_material")} == {"thumb", "image"}


async def test_metrics_count_per_endpoint_and_errcode(make_api, sandbox):
    api = make_api()
    sandbox.platform.set_follower("o1")
    with pytest.raises(WindowClosed):
        await api.send_text("o1", "hi")
    sandbox.platform.follower_action("o1", "message")
    sandbox.platform.add_fault("message/custom/send", drop=True)
    with pytest.raises(OutcomeUnknown):
        await api.send_text("o1", "hi")
    await api.send_text("o1", "hi")
    assert api.metrics.snapshot() == {
        ("stable_token", 0): 1,
        ("message/custom/send", 45015): 1,
        ("message/custom/send", None): 1,
        ("message/custom/send", 0): 1,
    }
