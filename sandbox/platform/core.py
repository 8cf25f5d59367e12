"""The local WeChat platform's state and its one entry point, without HTTP. `Platform.call(endpoint,
query, body, files)` is what `/cgi-bin/<endpoint>` (and `/datacube/<name>`) does: record the call, apply an injected fault, check
the access token and the daily quota, then run the endpoint's rules (each API area is a module of this
package exporting its `ENDPOINTS`, merged below). The platform also owns its clock (quota days in Beijing
time, advanceable), its saving to disk, and its background jobs: publishes and mass sends that finish
later and are announced to the webhook. The `/_sandbox/` controls are in controls.py.

Every refusal is `{"errcode": N, "errmsg": "..."}` with WeChat's code. Where no official page states a
rule, the choice made is written next to the rule and marked unconfirmed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from core.clock import Clock
from core.config import Settings
from sandbox.delivery import WebhookDelivery
from sandbox.platform import account, datacube, drafts, mass, media, messages, publish, tokens
from sandbox.platform.controls import Controls
from sandbox.platform.errors import WxError
from sandbox.platform.schema import (
    INVALID_BODY,
    MAX_CALLS_KEPT,
    complete,
    empty_state,
    normalize_endpoint,
    summarize,
)
from sandbox.state import StateStore

log = logging.getLogger(__name__)

# Quota days and months follow Beijing time (the platform is in China; "每日" resets at 00:00 there).
PLATFORM_TZ = ZoneInfo("Asia/Shanghai")


class DropConnection(Exception):  # an instruction to the HTTP layer, not an error
    """A fault asked to close the connection without an answer."""


class Platform(Controls):
    """All the rules and all the state of the local WeChat platform."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        state_path: str | None = None,
        *,
        publish_delay: float = 1.5,
        webhook_url: str | None = None,
        delivery_retry_after: float = 5.0,
    ) -> None:
        self.settings = settings
        self.wechat = settings.wechat
        self.clock = clock or Clock()
        self.store = StateStore(state_path or settings.path(settings.sandbox.state_path))
        self.default_publish_delay = publish_delay
        self.default_webhook_url = settings.webhook_url if webhook_url is None else webhook_url
        self.delivery_retry_after = delivery_retry_after
        self.base_url = f"http://{settings.sandbox.host}:{settings.sandbox.port}"
        self.state: dict[str, Any] = complete(self.store.load() or empty_state())
        self.http: aiohttp.ClientSession | None = None
        self._own_http = False
        self._tasks: set[asyncio.Task] = set()
        self._released = asyncio.Event()
        self._dirty = asyncio.Event()
        self._saver: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._started = False

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self, http: aiohttp.ClientSession | None = None) -> None:
        """Start background work: saving, the confirmation ticker, and jobs interrupted by a restart."""
        if self._started:
            return
        self._started = True
        if http is None:
            http, self._own_http = aiohttp.ClientSession(), True
        self.http = http
        if not self.state["options"]["hold_jobs"]:
            self._released.set()
        self._saver = asyncio.create_task(self._save_loop())
        self._ticker = asyncio.create_task(self._tick_loop())
        for pid, pub in self.state["publishes"].items():
            if pub["status"] == 1:
                self.spawn(publish.finish_publish(self, pid))
        for mid, job in self.state["mass"].items():
            if job["status"] == "sending":
                self.spawn(mass.finish_mass(self, mid))

    async def close(self) -> None:
        for task in (self._saver, self._ticker, *self._tasks):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._saver, self._ticker, *self._tasks) if t),
                             return_exceptions=True)
        self._tasks.clear()
        await asyncio.to_thread(self.store.save_text, json.dumps(self.state, ensure_ascii=False))
        if self._own_http and self.http is not None:
            await self.http.close()
        self._started = False

    async def settle(self) -> None:
        """Wait until every job that can finish now (publishes, mass sends, deliveries) has finished."""
        while True:
            pending = [t for t in self._tasks if not t.done()]
            if not pending:
                return
            if not self._released.is_set():
                return  # held jobs cannot finish; don't wait for them
            await asyncio.gather(*pending, return_exceptions=True)

    def spawn(self, coro: Awaitable) -> None:
        """Run a job (a publish, a mass send, an event delivery) in the background until close()."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def job_wait(self) -> None:
        """What a publish or mass-send job waits for: the publish delay, then release (hold_jobs)."""
        if self.publish_delay > 0:
            await self.clock.sleep(self.publish_delay)
        await self._released.wait()

    def changed(self) -> None:
        self._dirty.set()

    def save_now(self) -> None:
        """Write the state synchronously (for tests and shutdown paths without a loop)."""
        self.store.save_text(json.dumps(self.state, ensure_ascii=False))

    async def _save_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            # Serialise on the loop (nothing mutates meanwhile), write in a thread.
            text = json.dumps(self.state, ensure_ascii=False)
            try:
                await asyncio.to_thread(self.store.save_text, text)
            except OSError:
                log.exception("cannot save the sandbox state to %s", self.store.path)
            await asyncio.sleep(0.05)  # coalesce bursts of calls into one write

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.tick()

    def tick(self) -> None:
        """Expire broadcasts whose confirmation did not come within 30 minutes."""
        mass.expire_unconfirmed(self)

    # --- the platform's clock ----------------------------------------------------------------------

    def now(self) -> float:
        """The platform's time for quotas, windows and expiry: the injected clock plus any advance."""
        return self.clock.time() + self.state["clock_offset"]

    def local_time(self, ts: float | None = None) -> datetime:
        return datetime.fromtimestamp(self.now() if ts is None else ts, UTC).astimezone(PLATFORM_TZ)

    def day(self, ts: float | None = None) -> str:
        return self.local_time(ts).strftime("%Y-%m-%d")

    def month(self, ts: float | None = None) -> str:
        return self.local_time(ts).strftime("%Y-%m")

    def next_id(self) -> int:
        self.state["seq"] += 1
        return self.state["seq"]

    # --- followers and the webhook ----------------------------------------------------------------

    def follower(self, openid: str, create: bool = False) -> dict | None:
        f = self.state["followers"].get(openid)
        if f is None and create:
            f = {"openid": openid, "subscribed": False, "subscribe_time": None, "unsubscribe_time": None,
                 "tags": [], "msg_window": None, "event_window": None, "broadcasts": []}
            self.state["followers"][openid] = f
        return f

    def delivery(self, url: str | None = None) -> WebhookDelivery:
        """A delivery to the bot's webhook signed with the account's token and key in [sandbox] mode."""
        if self.http is None:
            raise RuntimeError("Platform.start() first")
        return WebhookDelivery(
            url=url or self.webhook_url, token=self.wechat.token, appid=self.wechat.appid,
            encoding_aes_key=self.wechat.encoding_aes_key, mode=self.settings.sandbox.mode,
            http=self.http, clock=self.clock, retry_after=self.delivery_retry_after,
            on_follower_action=self.follower_action,
        )

    # --- the API ------------------------------------------------------------------------------------

    async def call(self, endpoint: str, query: dict[str, str] | None = None, body: Any = None,
                   files: dict[str, tuple[str, bytes]] | None = None, method: str = "POST") -> dict:
        """One `/cgi-bin/<endpoint>` call → the JSON answer. Raises DropConnection for a drop fault."""
        endpoint = normalize_endpoint(endpoint)
        query = dict(query or {})
        record = {"at": self.now(), "endpoint": endpoint, "params": summarize(query, body, files),
                  "errcode": 0}
        self.state["calls"].append(record)
        if len(self.state["calls"]) > MAX_CALLS_KEPT:
            del self.state["calls"][: len(self.state["calls"]) - MAX_CALLS_KEPT]
        self.changed()
        try:
            fault = self._take_fault(endpoint)
            if fault is not None:
                if fault["latency"]:
                    await asyncio.sleep(fault["latency"])
                if fault["drop"]:
                    record["errcode"] = None
                    record["dropped"] = True
                    raise DropConnection()
                if fault["errcode"] is not None:
                    raise WxError(int(fault["errcode"]))
            handler = ENDPOINTS.get(endpoint)
            if handler is None:
                path = endpoint if endpoint.startswith(("datacube/", "cgi-bin/")) else f"cgi-bin/{endpoint}"
                raise WxError(40066, f"invalid url: /{path}")
            if endpoint not in ("token", "stable_token"):
                tokens.check_token(self, query.get("access_token"))
            self._use_quota(endpoint)
            if body is INVALID_BODY or (body is not None and not isinstance(body, dict)):
                raise WxError(47001)
            result = handler(self, query, body if body is not None else {}, files or {})
            if asyncio.iscoroutine(result):
                result = await result
            return {"errcode": 0, "errmsg": "ok", **result} if "errcode" not in result else result
        except WxError as e:
            record["errcode"] = e.code
            rid = secrets.token_hex(4) + "-" + secrets.token_hex(4)
            return {"errcode": e.code, "errmsg": f"{e.msg} rid: {rid}", **e.extra}

    def _take_fault(self, endpoint: str) -> dict | None:
        for fault in self.state["faults"]:
            pattern = fault["endpoint"]
            if pattern in (endpoint, "*") or (pattern.endswith("/*") and endpoint.startswith(pattern[:-1])):
                if fault["times"] is not None:
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self.state["faults"].remove(fault)
                return fault
        return None

    def _use_quota(self, endpoint: str) -> None:
        usage = self.state["usage"]
        today = self.day()
        if usage["day"] != today:
            usage.update(day=today, counts={})
        used = usage["counts"].get(endpoint, 0)
        if used >= self.quota_limit(endpoint):
            raise WxError(45009)
        usage["counts"][endpoint] = used + 1


# An endpoint's rules: (platform, query, JSON body or {}, uploaded files) → the answer's fields, or a
# coroutine of them; a refusal raises WxError.
Handler = Callable[[Platform, dict, Any, dict], Any]

ENDPOINTS: dict[str, Handler] = {
    **tokens.ENDPOINTS,
    **messages.ENDPOINTS,
    **media.ENDPOINTS,
    **drafts.ENDPOINTS,
    **publish.ENDPOINTS,
    **mass.ENDPOINTS,
    **account.ENDPOINTS,
    **datacube.ENDPOINTS,
}
