"""The local WeChat platform's rules and state, without HTTP: tokens, quotas, customer-service windows,
materials, drafts, publishing, mass sends, menu and followers, as ../shared/reference/wechat-api.md
describes them. `Platform.call(endpoint, query, body, files)` is what `/cgi-bin/<endpoint>` does;
the control methods (faults, clock, quotas, follower actions, reset) are what `/_sandbox/...` does.

Every refusal is `{"errcode": N, "errmsg": "..."}` with WeChat's code. Where the reference says
*unconfirmed*, the choice made is written next to the rule.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp

from bot.clock import Clock
from bot.config import Settings
from sandbox.delivery import DeliveryResult, WebhookDelivery, build_xml
from sandbox.state import StateStore

log = logging.getLogger(__name__)

# Quota days and months follow Beijing time (the platform is in China; "每日" resets at 00:00 there).
PLATFORM_TZ = ZoneInfo("Asia/Shanghai")

TOKEN_TTL = 7200
TOKEN_OVERLAP = 300  # a replaced token stays valid 5 more minutes (D-token, D-stable)
FORCE_REFRESH_PER_DAY = 20
FORCE_REFRESH_MIN_GAP = 30

KF_MESSAGE_WINDOW = 48 * 3600  # after a follower's message: 5 messages in 48 h (D-kf, since 2023)
KF_MESSAGE_QUOTA = 5
KF_EVENT_WINDOW = 60  # after click/subscribe/scan: 3 messages in 1 minute
KF_EVENT_QUOTA = 3
KF_TEXT_MAX_BYTES = 2048  # community-measured ceiling (unconfirmed officially)

UPLOADIMG_MAX = 1024 * 1024  # "< 1 MB"
IMAGE_MATERIAL_MAX = 10 * 1024 * 1024
THUMB_MAX = 64 * 1024
TEMP_MEDIA_TTL = 3 * 86400  # uploadnews media_ids expire like temporary media (3 days)

TITLE_MAX = 32
AUTHOR_MAX = 16
DIGEST_MAX = 128
CONTENT_MAX_CHARS = 20_000
CONTENT_MAX_BYTES = 1024 * 1024
SOURCE_URL_MAX_BYTES = 1024
# Max articles per draft: 8 as in the old add_news; not stated for draft/add (unconfirmed). More → 45008.
DRAFT_MAX_ARTICLES = 8

CLIENTMSGID_MAX_BYTES = 64  # commonly cited, unconfirmed
CLIENTMSGID_TTL = 86400
PROTECTION_TIMEOUT = 30 * 60  # API 群发保护: an administrator must confirm within 30 min
SUBSCRIPTION_MASS_PER_DAY = 1
SERVICE_MASS_PER_MONTH = 4

MENU_TYPES = {
    "click", "view", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
    "pic_weixin", "location_select", "media_id", "view_limited", "article_id", "article_view_limited",
    "miniprogram",
}

# Daily call quotas per endpoint (D-limits). Values marked * are not in the reference (unconfirmed):
# they are set generously so that only the documented ones bite; raise any with set_quota().
DAILY_LIMITS: dict[str, int] = {
    "token": 2000,
    "stable_token": 500_000,
    "message/custom/send": 500_000,
    "media/uploadimg": 100_000,  # *
    "media/uploadnews": 1000,  # *
    "material/add_material": 5000,  # *
    "draft/add": 1000, "draft/get": 500, "draft/delete": 1000, "draft/update": 1000,
    "draft/count": 1000, "draft/batchget": 1000,
    "freepublish/submit": 100, "freepublish/get": 100, "freepublish/delete": 10,
    "freepublish/getarticle": 100, "freepublish/batchget": 100,
    "message/mass/sendall": 100, "message/mass/send": 100,  # 高级群发 100/day
    "message/mass/preview": 100,  # *
    "message/mass/get": 1000, "message/mass/delete": 1000,  # *
    "tags/get": 1000,  # *
    "menu/create": 1000, "menu/get": 10_000, "menu/delete": 1000,  # get/delete *
    "user/get": 500, "user/info": 5_000_000,
}
DEFAULT_DAILY_LIMIT = 10_000

ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40005: "invalid file type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40035: "invalid args",
    40066: "invalid url",
    40125: "invalid appsecret",
    40130: "invalid openid list size, at least two openid",
    40164: "invalid ip 127.0.0.1, not in whitelist",
    41001: "access_token missing",
    41005: "media data missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44003: "empty news data",
    44004: "empty content",
    45002: "content size out of limit",
    45003: "title size out of limit",
    45004: "description size out of limit",
    45005: "link size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    45015: "response out of time limit or subscription is canceled",
    45028: "has no masssend quota",
    45047: "out of response count limit",
    45065: "clientmsgid exist",
    45066: "same clientmsgid retry too fast",
    45067: "clientmsgid size out of limit",
    45110: "author size out of limit",
    45159: "invalid tag",
    46003: "menu no exist",
    47001: "data format error",
    48001: "api unauthorized",
}

# Sender of platform events (job-finish notifications come from one system account, not a follower).
PLATFORM_SENDER = "o_platform_system_sender"


class WxError(Exception):
    """A refusal: WeChat's errcode, its errmsg, and extra fields for the body (45065's msg_id)."""

    def __init__(self, code: int, msg: str | None = None, **extra: Any) -> None:
        self.code = code
        self.msg = msg or ERRMSG.get(code, "error")
        self.extra = extra
        super().__init__(f"{code}: {self.msg}")


INVALID_BODY = object()  # a POST body that is not a JSON object → 47001 data format error


class DropConnection(Exception):  # an instruction to the HTTP layer, not an error
    """A fault asked to close the connection without an answer."""


def _empty_state() -> dict[str, Any]:
    return {
        "version": 1,
        "clock_offset": 0.0,
        "seq": 1_000_000_000,
        "tokens": {},
        "current": {"token": None, "stable": None},
        "force_refresh": {"day": "", "count": 0, "last": 0.0},
        "whitelisted": True,
        "followers": {},
        "tags": {"2": "星标组"},
        "images": {},
        "materials": {},
        "news": {},
        "drafts": {},
        "publishes": {},
        "articles": {},
        "mass": {},
        "clientmsgids": {},
        "previews": [],
        "cs_messages": [],
        "stripped_images": [],
        "menu": None,
        "usage": {"day": "", "counts": {}},
        "quota_limits": {},
        "faults": [],
        "publish_faults": [],
        "deliveries": [],
        "calls": [],
        "options": {
            "publish_delay": None,  # None: the constructor's default
            "hold_jobs": False,
            "broadcast_protection": False,
            "draft_media_for_mass": True,
            "webhook_url": None,
        },
    }


MAX_CALLS_KEPT = 50_000


class Platform:
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
        self.state: dict[str, Any] = self.store.load() or _empty_state()
        self._migrate_state()
        self.http: aiohttp.ClientSession | None = None
        self._own_http = False
        self._tasks: set[asyncio.Task] = set()
        self._released = asyncio.Event()
        self._dirty = asyncio.Event()
        self._saver: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._started = False

    def _migrate_state(self) -> None:
        fresh = _empty_state()
        for key, value in fresh.items():
            self.state.setdefault(key, value)
        for key, value in fresh["options"].items():
            self.state["options"].setdefault(key, value)

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
                self._spawn(self._finish_publish(pid))
        for mid, mass in self.state["mass"].items():
            if mass["status"] == "sending":
                self._spawn(self._finish_mass(mid))

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

    def _spawn(self, coro: Awaitable) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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

    # --- the platform's clock ----------------------------------------------------------------------

    def now(self) -> float:
        """The platform's time for quotas, windows and expiry: the injected clock plus any advance."""
        return self.clock.time() + self.state["clock_offset"]

    def _local(self, ts: float | None = None) -> datetime:
        return datetime.fromtimestamp(self.now() if ts is None else ts, UTC).astimezone(PLATFORM_TZ)

    def day(self, ts: float | None = None) -> str:
        return self._local(ts).strftime("%Y-%m-%d")

    def month(self, ts: float | None = None) -> str:
        return self._local(ts).strftime("%Y-%m")

    def _next_id(self) -> int:
        self.state["seq"] += 1
        return self.state["seq"]

    # --- controls (the /_sandbox/ endpoints) ------------------------------------------------------

    def advance_clock(self, seconds: float) -> float:
        """Move the platform's clock (quotas, windows, token expiry); what it signs keeps real time."""
        self.state["clock_offset"] += float(seconds)
        self.tick()
        self.changed()
        return self.now()

    def add_fault(self, endpoint: str, errcode: int | None = None, times: int | None = 1,
                  latency: float = 0.0, drop: bool = False, publish_status: int | None = None,
                  fail_idx: list[int] | None = None) -> dict:
        """Make the next `times` calls to `endpoint` ("*" = any) fail with `errcode`, wait `latency`
        seconds, and/or drop the connection. `times=None` = until reset. Endpoint "publish_job"
        with `publish_status` (2, 3 or 4) and `fail_idx` makes the next publish(es) fail instead."""
        if endpoint == "publish_job":
            if publish_status not in (2, 3, 4):
                raise ValueError("publish_status must be 2, 3 or 4")
            fault = {"status": publish_status, "fail_idx": fail_idx or [1], "times": times}
            self.state["publish_faults"].append(fault)
        else:
            if errcode is None and not latency and not drop:
                raise ValueError("a fault needs errcode, latency or drop")
            fault = {"endpoint": normalize_endpoint(endpoint), "errcode": errcode, "times": times,
                     "latency": float(latency), "drop": bool(drop)}
            self.state["faults"].append(fault)
        self.changed()
        return fault

    def set_quota(self, endpoint: str, limit: int) -> None:
        self.state["quota_limits"][normalize_endpoint(endpoint)] = int(limit)
        self.changed()

    def quota_limit(self, endpoint: str) -> int:
        return self.state["quota_limits"].get(endpoint, DAILY_LIMITS.get(endpoint, DEFAULT_DAILY_LIMIT))

    def follower_action(self, openid: str, kind: str, at: float | None = None) -> None:
        """A follower did something that opens (or, for unsubscribe, closes) a customer-service window:
        message → 5 messages in 48 h; click/subscribe/scan → 3 in 1 minute. A new action resets the
        window to its full quota (stated for mini-programs, assumed here; unconfirmed)."""
        if kind not in ("message", "click", "subscribe", "scan", "unsubscribe"):
            raise ValueError(f"unknown follower action {kind!r}")
        at = self.now() if at is None else at
        f = self._follower(openid, create=True)
        if kind == "unsubscribe":
            f.update(subscribed=False, unsubscribe_time=at, msg_window=None, event_window=None)
        else:
            if kind == "subscribe" or not f["subscribed"]:
                f.update(subscribed=True, subscribe_time=at)
            if kind == "message":
                f["msg_window"] = {"at": at, "used": 0}
            else:
                f["event_window"] = {"at": at, "used": 0}
        self.changed()

    def set_follower(self, openid: str, subscribed: bool = True, tags: list[int] | None = None) -> dict:
        """Declare a follower (and their tags) without opening any window."""
        f = self._follower(openid, create=True)
        if subscribed and not f["subscribed"]:
            f.update(subscribed=True, subscribe_time=self.now())
        elif not subscribed and f["subscribed"]:
            f.update(subscribed=False, unsubscribe_time=self.now(), msg_window=None, event_window=None)
        if tags is not None:
            for tag in tags:
                self.state["tags"].setdefault(str(tag), f"标签{tag}")
            f["tags"] = [int(t) for t in tags]
        self.changed()
        return f

    def invalidate_token(self, grace: float = 0.0) -> None:
        """Another process force-refreshed: the current tokens stop working after `grace` seconds
        (0 = at once, the worst case for the bot) and new ones become current."""
        now = self.now()
        for kind in ("token", "stable"):
            old = self.state["current"][kind]
            if old and old in self.state["tokens"]:
                self.state["tokens"][old]["revoked_at"] = now + grace
            self.state["current"][kind] = self._new_token(kind) if old else None
        self.changed()

    def set_whitelisted(self, whitelisted: bool) -> None:
        """When False, token and stable_token answer 40164 (this IP is not whitelisted)."""
        self.state["whitelisted"] = bool(whitelisted)
        self.changed()

    def configure(self, **options: Any) -> dict:
        """publish_delay (s), hold_jobs (publishes and mass sends wait for release), broadcast_protection,
        draft_media_for_mass (False: mass send refuses draft media_ids with 40007, as the community
        reports; use uploadnews), webhook_url."""
        for key, value in options.items():
            if key not in self.state["options"]:
                raise ValueError(f"unknown option {key!r}")
            self.state["options"][key] = value
        if "hold_jobs" in options:
            (self._released.clear if options["hold_jobs"] else self._released.set)()
        self.changed()
        return dict(self.state["options"])

    @property
    def publish_delay(self) -> float:
        value = self.state["options"]["publish_delay"]
        return self.default_publish_delay if value is None else float(value)

    @property
    def webhook_url(self) -> str:
        value = self.state["options"]["webhook_url"]
        return self.default_webhook_url if value is None else value

    def confirm_mass(self, msg_id: int) -> None:
        """The administrator confirms a broadcast held by broadcast protection."""
        mass = self.state["mass"].get(str(msg_id))
        if mass is None or mass["status"] != "awaiting_confirmation":
            raise ValueError(f"no broadcast {msg_id} awaiting confirmation")
        mass["status"] = "sending"
        self.changed()
        self._spawn(self._finish_mass(str(msg_id)))

    def tick(self) -> None:
        """Expire broadcasts whose confirmation did not come within 30 minutes."""
        now = self.now()
        for mid, mass in self.state["mass"].items():
            if mass["status"] == "awaiting_confirmation" and now >= mass["confirm_deadline"]:
                mass.update(status="failed", finished_at=now, fail_reason="broadcast protection: not confirmed in 30 min")
                self.changed()
                self._spawn(self._deliver_mass_event(mid))

    def reset(self) -> None:
        """Forget everything (tokens, followers, drafts, quotas, faults, calls)."""
        self.state = _empty_state()
        self._released.set()
        self.changed()

    def snapshot(self, calls: bool = True) -> dict[str, Any]:
        state = copy.deepcopy(self.state)
        if not calls:
            state.pop("calls")
        state["now"] = self.now()
        state["day"] = self.day()
        state["base_url"] = self.base_url
        return state

    def calls(self, endpoint: str | None = None, errcode: int | None = None) -> list[dict]:
        """Recorded API calls (oldest first), optionally of one endpoint and/or errcode."""
        ep = normalize_endpoint(endpoint) if endpoint else None
        return [c for c in self.state["calls"]
                if (ep is None or c["endpoint"] == ep) and (errcode is None or c["errcode"] == errcode)]

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
        record = {"at": self.now(), "endpoint": endpoint, "params": _summarize(query, body, files),
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
            handler = _ENDPOINTS.get(endpoint)
            if handler is None:
                raise WxError(40066, f"invalid url: /cgi-bin/{endpoint}")
            if endpoint not in ("token", "stable_token"):
                self._check_token(query.get("access_token"))
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
            if fault["endpoint"] in (endpoint, "*"):
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

    # --- tokens ------------------------------------------------------------------------------------

    def _new_token(self, kind: str) -> str:
        token = secrets.token_urlsafe(96)  # WeChat says reserve ≥ 512 chars; real ones are ~140
        now = self.now()
        self.state["tokens"][token] = {"kind": kind, "issued_at": now, "expires_at": now + TOKEN_TTL,
                                       "revoked_at": None}
        # Forget tokens dead for a day, so the state does not grow without bound.
        dead = [t for t, v in self.state["tokens"].items() if _token_end(v) < now - 86400]
        for t in dead:
            del self.state["tokens"][t]
        return token

    def _check_credentials(self, appid: str | None, secret: str | None) -> None:
        if not self.state["whitelisted"]:
            raise WxError(40164)
        if appid != self.wechat.appid:
            raise WxError(40013)
        # A wrong secret: 40125 on both endpoints (cgi-bin/token has also been seen answering 40001;
        # 40125 is the one that says what is wrong, and the client treats both as fatal at fetch time).
        if secret != self.wechat.secret:
            raise WxError(40125)

    def _check_token(self, token: str | None) -> None:
        if not token:
            raise WxError(41001)
        info = self.state["tokens"].get(token)
        now = self.now()
        if info is None:
            raise WxError(40001)
        if info["revoked_at"] is not None and now >= info["revoked_at"] and info["revoked_at"] < info["expires_at"]:
            raise WxError(40001)  # replaced: "not latest"
        if now >= info["expires_at"]:
            raise WxError(42001)

    def _api_token(self, query, body, files) -> dict:
        if query.get("grant_type") != "client_credential":
            raise WxError(40002)
        self._check_credentials(query.get("appid"), query.get("secret"))
        # Each call replaces the previous token, which stays valid 5 more minutes (D-token).
        old = self.state["current"]["token"]
        now = self.now()
        if old in self.state["tokens"]:
            info = self.state["tokens"][old]
            info["revoked_at"] = min(_token_end(info), now + TOKEN_OVERLAP)
        token = self._new_token("token")
        self.state["current"]["token"] = token
        return {"access_token": token, "expires_in": TOKEN_TTL}

    def _api_stable_token(self, query, body, files) -> dict:
        if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
            raise WxError(40002)
        self._check_credentials(body.get("appid"), body.get("secret"))
        now = self.now()
        current = self.state["current"]["stable"]
        info = self.state["tokens"].get(current) if current else None
        if body.get("force_refresh"):
            fr = self.state["force_refresh"]
            if fr["day"] != self.day():
                fr.update(day=self.day(), count=0)
            if fr["count"] >= FORCE_REFRESH_PER_DAY:
                raise WxError(45009)
            if fr["last"] and now - fr["last"] < FORCE_REFRESH_MIN_GAP:
                raise WxError(45011)
            fr["count"] += 1
            fr["last"] = now
            if info is not None:
                info["revoked_at"] = min(_token_end(info), now + TOKEN_OVERLAP)
            info = None
        elif info is not None:
            remaining = _token_end(info) - now
            if remaining > TOKEN_OVERLAP:
                return {"access_token": current, "expires_in": int(remaining)}
            # Last 5 minutes: WeChat pre-rotates; the old token lives out its remaining time.
        token = self._new_token("stable")
        self.state["current"]["stable"] = token
        return {"access_token": token, "expires_in": TOKEN_TTL}

    # --- customer-service messages -----------------------------------------------------------------

    def _follower(self, openid: str, create: bool = False) -> dict | None:
        f = self.state["followers"].get(openid)
        if f is None and create:
            f = {"openid": openid, "subscribed": False, "subscribe_time": None, "unsubscribe_time": None,
                 "tags": [], "msg_window": None, "event_window": None, "broadcasts": []}
            self.state["followers"][openid] = f
        return f

    def _api_custom_send(self, query, body, files) -> dict:
        touser = body.get("touser")
        msgtype = body.get("msgtype")
        if not touser:
            raise WxError(40003)
        if msgtype not in _KF_TYPES:
            raise WxError(40008)
        payload = body.get(msgtype)
        if not isinstance(payload, dict):
            raise WxError(47001)
        if msgtype == "text":
            content = payload.get("content") or ""
            if not content:
                raise WxError(44004)
            if len(content.encode("utf-8")) > KF_TEXT_MAX_BYTES:
                raise WxError(45002)
        elif msgtype == "news":
            articles = payload.get("articles") or []
            if not articles:
                raise WxError(44003)
            if len(articles) > 1:
                raise WxError(45008)  # outbound news: 1 article (D-kf)
        elif msgtype in ("image", "voice", "mpnews"):
            media_id = payload.get("media_id")
            known = self._mpnews_articles(media_id, for_mass=False) if msgtype == "mpnews" else \
                self.state["materials"].get(media_id)
            if not known:
                raise WxError(40007)
        elif msgtype == "mpnewsarticle":
            if payload.get("article_id") not in self.state["articles"]:
                raise WxError(40007)
        f = self._follower(touser)
        if f is None:
            raise WxError(40003)
        if not f["subscribed"]:
            raise WxError(43004)
        self._use_window(f)
        self.state["cs_messages"].append({"at": self.now(), "openid": touser, "msgtype": msgtype,
                                          "payload": payload})
        return {}

    def _use_window(self, f: dict) -> None:
        now = self.now()
        exhausted = False
        # The 3-per-minute window of a click/subscribe/scan is used first: it expires soonest.
        for key, span, quota in (("event_window", KF_EVENT_WINDOW, KF_EVENT_QUOTA),
                                 ("msg_window", KF_MESSAGE_WINDOW, KF_MESSAGE_QUOTA)):
            window = f.get(key)
            if window and now - window["at"] < span:
                if window["used"] < quota:
                    window["used"] += 1
                    return
                exhausted = True
        raise WxError(45047 if exhausted else 45015)

    # --- materials ----------------------------------------------------------------------------------

    async def _store_file(self, data: bytes, ext: str) -> tuple[str, str]:
        name = f"{hashlib.sha256(data).hexdigest()}.{ext}"
        await asyncio.to_thread(self.store.write_file, name, data)
        return name, f"{self.base_url}/mmbiz/{name}"

    async def _api_uploadimg(self, query, body, files) -> dict:
        if "media" not in files:
            raise WxError(41005)
        _, data = files["media"]
        kind = sniff_image(data)
        if kind not in ("jpg", "png"):
            raise WxError(40005)
        if len(data) >= UPLOADIMG_MAX:
            raise WxError(40009)
        name, url = await self._store_file(data, kind)
        image = self.state["images"].setdefault(name, {"url": url, "size": len(data), "created_at": self.now()})
        return {"url": image["url"]}

    async def _api_add_material(self, query, body, files) -> dict:
        mtype = query.get("type")
        if mtype not in ("image", "thumb"):
            # voice/video are not used by the bot; refuse clearly rather than pretend.
            raise WxError(40004)
        if "media" not in files:
            raise WxError(41005)
        filename, data = files["media"]
        kind = sniff_image(data)
        if mtype == "thumb":
            if kind != "jpg":
                raise WxError(40005)
            if len(data) > THUMB_MAX:
                raise WxError(40009)
        else:
            if kind is None:
                raise WxError(40005)
            if len(data) > IMAGE_MATERIAL_MAX:
                raise WxError(40009)
        name, url = await self._store_file(data, kind)
        media_id = secrets.token_urlsafe(32)
        self.state["materials"][media_id] = {"type": mtype, "file": name, "url": url, "size": len(data),
                                             "filename": filename, "created_at": self.now()}
        return {"media_id": media_id, "url": url} if mtype == "image" else {"media_id": media_id}

    # --- drafts -------------------------------------------------------------------------------------

    def _known_image_urls(self) -> tuple[frozenset[str], frozenset[str]]:
        """(file names, hosts) of images this platform issued; a body <img> must use one of them."""
        names = set(self.state["images"])
        names.update(m["file"] for m in self.state["materials"].values() if m["type"] == "image")
        hosts = {urlsplit(self.base_url).netloc}
        hosts.update(urlsplit(i["url"]).netloc for i in self.state["images"].values())
        return frozenset(names), frozenset(hosts)

    async def _validate_articles(self, articles: Any, where: str) -> list[dict]:
        if not isinstance(articles, list) or not articles:
            raise WxError(44003)
        if len(articles) > DRAFT_MAX_ARTICLES:
            raise WxError(45008)
        names, hosts = self._known_image_urls()
        items = []
        for a in articles:
            if not isinstance(a, dict):
                raise WxError(47001)
            title = a.get("title") or ""
            content = a.get("content") or ""
            if not title or not content:
                raise WxError(44003)
            if len(title) > TITLE_MAX:
                raise WxError(45003)
            if len(a.get("author") or "") > AUTHOR_MAX:
                raise WxError(45110)
            if len(a.get("digest") or "") > DIGEST_MAX:
                raise WxError(45004)
            if len(content) >= CONTENT_MAX_CHARS or len(content.encode("utf-8")) >= CONTENT_MAX_BYTES:
                raise WxError(45002)
            if len((a.get("content_source_url") or "").encode("utf-8")) > SOURCE_URL_MAX_BYTES:
                raise WxError(45005)
            thumb = self.state["materials"].get(a.get("thumb_media_id") or "")
            if thumb is None:
                raise WxError(40007)  # must be a permanent material (add_material)
            flags = {}
            for key in ("need_open_comment", "only_fans_can_comment", "show_cover_pic"):
                value = a.get(key, 0)
                if value not in (0, 1, True, False):
                    raise WxError(47001)
                flags[key] = int(value)
            cleaned, stripped, scripts = await asyncio.to_thread(clean_content, content, names, hosts)
            for url in stripped:
                self.state["stripped_images"].append({"at": self.now(), "where": where, "title": title,
                                                      "url": url})
            digest = a.get("digest")
            if not digest and len(articles) == 1:
                digest = _text_of(cleaned)[:54]  # WeChat's default: the first 54 characters
            items.append({
                "title": title, "author": a.get("author") or "", "digest": digest or "",
                "content": cleaned, "content_source_url": a.get("content_source_url") or "",
                "thumb_media_id": a["thumb_media_id"], "thumb_url": thumb["url"], **flags,
                "stripped_images": stripped, "scripts_removed": scripts,
            })
        return items

    async def _api_draft_add(self, query, body, files) -> dict:
        items = await self._validate_articles(body.get("articles"), "draft/add")
        media_id = secrets.token_urlsafe(32)
        now = int(self.now())
        for i, item in enumerate(items):
            item["url"] = f"{self.base_url}/draft/{media_id}/{i + 1}"
        self.state["drafts"][media_id] = {"media_id": media_id, "news_item": items,
                                          "create_time": now, "update_time": now}
        return {"media_id": media_id}

    def _draft(self, body) -> dict:
        draft = self.state["drafts"].get(body.get("media_id") or "")
        if draft is None:
            raise WxError(40007)
        return draft

    def _api_draft_get(self, query, body, files) -> dict:
        draft = self._draft(body)
        return {"news_item": _public_items(draft["news_item"]), "create_time": draft["create_time"],
                "update_time": draft["update_time"]}

    def _api_draft_delete(self, query, body, files) -> dict:
        del self.state["drafts"][self._draft(body)["media_id"]]
        return {}

    def _api_draft_count(self, query, body, files) -> dict:
        return {"total_count": len(self.state["drafts"])}

    def _api_draft_batchget(self, query, body, files) -> dict:
        offset, count = _page_args(body)
        drafts = sorted(self.state["drafts"].values(), key=lambda d: d["update_time"], reverse=True)
        page = drafts[offset: offset + count]
        no_content = bool(body.get("no_content"))
        return {"total_count": len(drafts), "item_count": len(page), "item": [
            {"media_id": d["media_id"], "update_time": d["update_time"],
             "content": {"news_item": _public_items(d["news_item"], no_content),
                         "create_time": d["create_time"], "update_time": d["update_time"]}}
            for d in page]}

    async def _api_uploadnews(self, query, body, files) -> dict:
        items = await self._validate_articles(body.get("articles"), "media/uploadnews")
        media_id = secrets.token_urlsafe(32)
        now = self.now()
        self.state["news"][media_id] = {"media_id": media_id, "news_item": items, "created_at": now,
                                        "expires_at": now + TEMP_MEDIA_TTL}
        return {"type": "news", "media_id": media_id, "created_at": int(now)}

    # --- publishing ---------------------------------------------------------------------------------

    def _require_verified(self) -> None:
        # Unverified accounts lost freepublish (2025-07) and never had mass send (D-pub, D-mass).
        if not self.wechat.verified:
            raise WxError(48001)

    def _api_publish_submit(self, query, body, files) -> dict:
        self._require_verified()
        draft = self._draft(body)
        # A second submit of a draft whose first publish is still running is accepted as a second
        # publish (WeChat's behaviour here is unconfirmed); duplicates are then visible in the state.
        publish_id = str(self._next_id())
        msg_data_id = self._next_id()
        self.state["publishes"][publish_id] = {
            "publish_id": publish_id, "msg_data_id": msg_data_id, "media_id": draft["media_id"],
            "news_item": copy.deepcopy(draft["news_item"]), "status": 1, "submitted_at": self.now(),
            "finished_at": None, "article_id": None, "article_urls": [], "fail_idx": [],
        }
        self._spawn(self._finish_publish(publish_id))
        return {"publish_id": publish_id, "msg_data_id": msg_data_id}

    async def _job_wait(self) -> None:
        if self.publish_delay > 0:
            await self.clock.sleep(self.publish_delay)
        await self._released.wait()

    def _new_article(self, source: str, ref: str, items: list[dict]) -> tuple[str, list[str]]:
        article_id = secrets.token_urlsafe(24)
        urls = [f"{self.base_url}/s/{article_id}/{i + 1}" for i in range(len(items))]
        stored = []
        for item, url in zip(items, urls, strict=True):
            stored.append({**item, "url": url, "is_deleted": False})
        self.state["articles"][article_id] = {"article_id": article_id, "source": source, "ref": ref,
                                              "news_item": stored, "update_time": int(self.now())}
        return article_id, urls

    async def _finish_publish(self, publish_id: str) -> None:
        await self._job_wait()
        pub = self.state["publishes"].get(publish_id)
        if pub is None or pub["status"] != 1:
            return
        fault = self.state["publish_faults"][0] if self.state["publish_faults"] else None
        if fault is not None:
            if fault["times"] is not None:
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self.state["publish_faults"].pop(0)
            pub.update(status=fault["status"], fail_idx=list(fault["fail_idx"]), finished_at=self.now())
        else:
            article_id, urls = self._new_article("publish", publish_id, pub["news_item"])
            pub.update(status=0, article_id=article_id, article_urls=urls, finished_at=self.now())
            # A draft leaves the draft box once published (D-draft).
            self.state["drafts"].pop(pub["media_id"], None)
        self.changed()
        await self._deliver("publish", publish_id, publish_event_xml(
            self.wechat.account_id, int(self.clock.time()), pub))

    async def _deliver(self, kind: str, ref: str, xml: str) -> DeliveryResult | None:
        entry = {"at": self.now(), "kind": kind, "ref": ref, "url": self.webhook_url}
        if not self.webhook_url:
            entry.update(ok=False, error="no webhook configured")
            self.state["deliveries"].append(entry)
            self.changed()
            return None
        result = await self.delivery().deliver(xml, follower=False)
        entry.update(ok=result.ok, status=result.status, attempts=result.attempts, error=result.error,
                     reply=result.reply[:2000])
        self.state["deliveries"].append(entry)
        self.changed()
        return result

    def _publish(self, body) -> dict:
        pub = self.state["publishes"].get(str(body.get("publish_id") or ""))
        if pub is None:
            raise WxError(40007)  # unknown publish_id: code unconfirmed
        return pub

    def _api_publish_get(self, query, body, files) -> dict:
        pub = self._publish(body)
        result: dict[str, Any] = {"publish_id": pub["publish_id"], "publish_status": pub["status"]}
        if pub["article_id"]:
            result["article_id"] = pub["article_id"]
            result["article_detail"] = {"count": len(pub["article_urls"]), "item": [
                {"idx": i + 1, "article_url": u} for i, u in enumerate(pub["article_urls"])]}
        result["fail_idx"] = pub["fail_idx"]
        return result

    def _article(self, body) -> dict:
        article = self.state["articles"].get(body.get("article_id") or "")
        if article is None or article["source"] != "publish":
            raise WxError(40007)
        return article

    def _api_publish_getarticle(self, query, body, files) -> dict:
        return {"news_item": _public_items(self._article(body)["news_item"])}

    def _api_publish_batchget(self, query, body, files) -> dict:
        offset, count = _page_args(body)
        # Only free-published articles (not mass-sent ones), newest first, not wholly deleted.
        articles = [a for a in self.state["articles"].values()
                    if a["source"] == "publish" and not all(i["is_deleted"] for i in a["news_item"])]
        articles.sort(key=lambda a: a["update_time"], reverse=True)
        page = articles[offset: offset + count]
        no_content = bool(body.get("no_content"))
        return {"total_count": len(articles), "item_count": len(page), "item": [
            {"article_id": a["article_id"], "update_time": a["update_time"],
             "content": {"news_item": _public_items(a["news_item"], no_content)}} for a in page]}

    def _api_publish_delete(self, query, body, files) -> dict:
        article = self._article(body)
        index = int(body.get("index") or 0)  # 1-based; 0 = all (irreversible)
        items = article["news_item"]
        if index < 0 or index > len(items):
            raise WxError(40035)
        for i, item in enumerate(items):
            if index in (0, i + 1):
                item["is_deleted"] = True
        if all(i["is_deleted"] for i in items):
            self.state["publishes"][article["ref"]]["status"] = 5  # all deleted by the user
        return {}

    # --- mass send ----------------------------------------------------------------------------------

    def _mpnews_articles(self, media_id: Any, for_mass: bool = True) -> list[dict] | None:
        if not isinstance(media_id, str):
            return None
        news = self.state["news"].get(media_id)
        if news is not None and self.now() < news["expires_at"]:
            return news["news_item"]
        draft = self.state["drafts"].get(media_id)
        if draft is not None and (not for_mass or self.state["options"]["draft_media_for_mass"]):
            return draft["news_item"]
        return None

    def _mass_content(self, body) -> tuple[str, Any, list[dict] | None]:
        msgtype = body.get("msgtype")
        payload = body.get(msgtype) if isinstance(msgtype, str) else None
        if msgtype not in ("mpnews", "text", "image") or not isinstance(payload, dict):
            raise WxError(40008)  # voice/mpvideo/wxcard are not simulated
        if msgtype == "mpnews":
            articles = self._mpnews_articles(payload.get("media_id"))
            if articles is None:
                raise WxError(40007)
            return msgtype, payload, articles
        if msgtype == "text":
            if not payload.get("content"):
                raise WxError(44004)
        elif payload.get("media_id") not in self.state["materials"]:
            raise WxError(40007)
        return msgtype, payload, None

    def _check_clientmsgid(self, cid: Any) -> None:
        if cid is None or cid == "":
            return
        cid = str(cid)
        if len(cid.encode("utf-8")) > CLIENTMSGID_MAX_BYTES:
            raise WxError(45067)
        seen = self.state["clientmsgids"].get(cid)
        if seen is None or self.now() - seen["at"] >= CLIENTMSGID_TTL:
            return
        mass = self.state["mass"][str(seen["msg_id"])]
        # While the first send is still waiting for the administrator, a resend is "too fast" (45066);
        # otherwise WeChat answers 45065 with the first send's msg_id (unconfirmed detail: which of
        # the two a resend gets while the first is in flight; this choice keeps both reachable).
        if mass["status"] == "awaiting_confirmation":
            raise WxError(45066)
        raise WxError(45065, msg_id=mass["msg_id"], msg_data_id=mass.get("msg_data_id"))

    def _month_broadcasts(self, f: dict) -> int:
        month = self.month()
        return sum(1 for b in f["broadcasts"] if self.month(b["at"]) == month)

    def _check_mass_quota(self, is_to_all: bool) -> None:
        live = [m for m in self.state["mass"].values()
                if m["kind"] in ("sendall", "send") and m["status"] != "failed"]
        if self.wechat.account_type == "subscription":
            # One successful mass send per day, to all or to a tag (D-mass). mass/send by openid list is
            # counted the same way (whether a subscription account may use it at all: unconfirmed).
            if sum(1 for m in live if self.day(m["created_at"]) == self.day()) >= SUBSCRIPTION_MASS_PER_DAY:
                raise WxError(45028)
        elif is_to_all:
            month = self.month()
            if sum(1 for m in live if m["is_to_all"] and self.month(m["created_at"]) == month) \
                    >= SERVICE_MASS_PER_MONTH:
                raise WxError(45028)

    def _recipients(self, candidates: list[str]) -> list[str]:
        if self.wechat.account_type == "subscription":
            return candidates
        # Service accounts: each follower receives at most 4 mass messages per calendar month.
        return [o for o in candidates
                if self._month_broadcasts(self.state["followers"][o]) < SERVICE_MASS_PER_MONTH]

    def _start_mass(self, kind: str, body: dict, candidates: list[str], is_to_all: bool,
                    tag_id: int | None) -> dict:
        msgtype, payload, articles = self._mass_content(body)
        self._check_mass_quota(is_to_all)
        msg_id = self._next_id()
        msg_data_id = self._next_id() if msgtype == "mpnews" else None
        now = self.now()
        protected = is_to_all and self.state["options"]["broadcast_protection"]
        mass = {
            "msg_id": msg_id, "msg_data_id": msg_data_id, "kind": kind, "is_to_all": is_to_all,
            "tag_id": tag_id, "msgtype": msgtype, "payload": payload,
            "media_id": payload.get("media_id"), "news_item": copy.deepcopy(articles),
            "clientmsgid": str(body.get("clientmsgid") or ""),
            "send_ignore_reprint": int(body.get("send_ignore_reprint") or 0),
            "status": "awaiting_confirmation" if protected else "sending",
            "confirm_deadline": now + PROTECTION_TIMEOUT if protected else None,
            "created_at": now, "finished_at": None, "total_count": len(candidates),
            "recipients": self._recipients(candidates), "article_id": None, "article_urls": [],
            "deleted_idx": [],
        }
        self.state["mass"][str(msg_id)] = mass
        if mass["clientmsgid"]:
            self.state["clientmsgids"][mass["clientmsgid"]] = {"msg_id": msg_id, "at": now}
        if not protected:
            self._spawn(self._finish_mass(str(msg_id)))
        result = {"errmsg": "send job submission success", "errcode": 0, "msg_id": msg_id}
        if msg_data_id is not None:
            result["msg_data_id"] = msg_data_id
        return result

    def _api_mass_sendall(self, query, body, files) -> dict:
        self._require_verified()
        self._check_clientmsgid(body.get("clientmsgid"))
        flt = body.get("filter")
        if not isinstance(flt, dict):
            raise WxError(47001)
        is_to_all = bool(flt.get("is_to_all"))
        tag_id = None
        followers = [f for f in self.state["followers"].values() if f["subscribed"]]
        if not is_to_all:
            tag_id = flt.get("tag_id")
            if tag_id is None or str(tag_id) not in self.state["tags"]:
                raise WxError(45159)  # code for an unknown tag: unconfirmed
            followers = [f for f in followers if int(tag_id) in f["tags"]]
        return self._start_mass("sendall", body, [f["openid"] for f in followers], is_to_all,
                                int(tag_id) if tag_id is not None else None)

    def _api_mass_send(self, query, body, files) -> dict:
        self._require_verified()
        self._check_clientmsgid(body.get("clientmsgid"))
        touser = body.get("touser")
        if not isinstance(touser, list) or not 2 <= len(touser) <= 10_000:
            raise WxError(40130)
        subscribed = [o for o in dict.fromkeys(touser)
                      if (f := self._follower(o)) is not None and f["subscribed"]]
        return self._start_mass("send", body, subscribed, False, None)

    def _api_mass_preview(self, query, body, files) -> dict:
        openid = body.get("touser")
        if body.get("towxname"):
            raise WxError(40003, "towxname preview is not simulated; use touser")
        f = self._follower(openid or "")
        if f is None:
            raise WxError(40003)
        if not f["subscribed"]:
            raise WxError(43004)
        msgtype, payload, articles = self._mass_content(body)
        msg_id = self._next_id()
        self.state["previews"].append({"msg_id": msg_id, "at": self.now(), "openid": openid,
                                       "msgtype": msgtype, "payload": payload,
                                       "news_item": copy.deepcopy(articles)})
        return {"errmsg": "preview success", "errcode": 0, "msg_id": msg_id}

    async def _finish_mass(self, msg_id: str) -> None:
        await self._job_wait()
        mass = self.state["mass"].get(msg_id)
        if mass is None or mass["status"] != "sending":
            return
        now = self.now()
        if mass["news_item"]:
            article_id, urls = self._new_article("mass", msg_id, mass["news_item"])
            mass.update(article_id=article_id, article_urls=urls)
        for openid in mass["recipients"]:
            f = self._follower(openid)
            if f is not None:
                f["broadcasts"].append({"msg_id": mass["msg_id"], "at": now})
        mass.update(status="sent", finished_at=now)
        if mass["is_to_all"] and mass["msgtype"] == "mpnews":
            # After a successful send to all the media_id becomes invalid and the draft is deleted.
            self.state["drafts"].pop(mass["media_id"], None)
        self.changed()
        await self._deliver_mass_event(msg_id)

    async def _deliver_mass_event(self, msg_id: str) -> None:
        mass = self.state["mass"][msg_id]
        await self._deliver("mass", msg_id, mass_event_xml(
            self.wechat.account_id, int(self.clock.time()), mass))

    def _mass(self, body) -> dict:
        mass = self.state["mass"].get(str(body.get("msg_id") or ""))
        if mass is None:
            raise WxError(40007)  # unknown msg_id: code unconfirmed
        return mass

    def _api_mass_get(self, query, body, files) -> dict:
        mass = self._mass(body)
        status = {"awaiting_confirmation": "SENDING", "sending": "SENDING", "sent": "SEND_SUCCESS",
                  "failed": "SEND_FAIL", "deleted": "DELETE"}[mass["status"]]
        return {"msg_id": mass["msg_id"], "msg_status": status}

    def _api_mass_delete(self, query, body, files) -> dict:
        mass = self._mass(body)
        if mass["status"] not in ("sent", "deleted"):
            raise WxError(40035, "only a sent broadcast can be deleted")
        idx = int(body.get("article_idx") or 0)  # 1-based; 0 = the whole message
        article = self.state["articles"].get(mass["article_id"] or "")
        if article is not None:
            for i, item in enumerate(article["news_item"]):
                if idx in (0, i + 1):
                    item["is_deleted"] = True
        if idx == 0 or article is None or all(i["is_deleted"] for i in article["news_item"]):
            mass["status"] = "deleted"
        else:
            mass["deleted_idx"].append(idx)
        return {}

    # --- tags, menu, users --------------------------------------------------------------------------

    def _api_tags_get(self, query, body, files) -> dict:
        counts: dict[int, int] = {}
        for f in self.state["followers"].values():
            for t in f["tags"] if f["subscribed"] else ():
                counts[t] = counts.get(t, 0) + 1
        return {"tags": [{"id": int(i), "name": n, "count": counts.get(int(i), 0)}
                         for i, n in sorted(self.state["tags"].items(), key=lambda kv: int(kv[0]))]}

    def _api_menu_create(self, query, body, files) -> dict:
        validate_menu(body)
        self.state["menu"] = {"button": body["button"]}
        return {}

    def _api_menu_get(self, query, body, files) -> dict:
        if not self.state["menu"]:
            raise WxError(46003)
        return {"menu": copy.deepcopy(self.state["menu"])}

    def _api_menu_delete(self, query, body, files) -> dict:
        self.state["menu"] = None
        return {}

    def _api_user_get(self, query, body, files) -> dict:
        followers = sorted((f for f in self.state["followers"].values() if f["subscribed"]),
                           key=lambda f: (f["subscribe_time"] or 0, f["openid"]))
        openids = [f["openid"] for f in followers]
        start = 0
        if query.get("next_openid"):
            try:
                start = openids.index(query["next_openid"]) + 1
            except ValueError:
                raise WxError(40003) from None
        page = openids[start: start + 10_000]
        # Empty next_openid = the end (the reference's reading; the real API may instead repeat
        # the last openid and answer count 0 on the next call — clients should stop on either).
        more = start + len(page) < len(openids)
        result: dict[str, Any] = {"total": len(openids), "count": len(page),
                                  "next_openid": page[-1] if more else ""}
        if page:
            result["data"] = {"openid": page}
        return result

    def _api_user_info(self, query, body, files) -> dict:
        f = self._follower(query.get("openid") or "")
        if f is None:
            raise WxError(40003)
        if not f["subscribed"]:
            return {"subscribe": 0, "openid": f["openid"]}
        return {"subscribe": 1, "openid": f["openid"], "subscribe_time": int(f["subscribe_time"] or 0),
                "remark": "", "groupid": 0, "tagid_list": f["tags"],
                "subscribe_scene": "ADD_SCENE_OTHERS", "qr_scene": 0, "qr_scene_str": ""}


# --- pure helpers ---------------------------------------------------------------------------------------

_KF_TYPES = {"text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu",
             "wxcard", "miniprogrampage"}


def normalize_endpoint(endpoint: str) -> str:
    e = endpoint.strip().lstrip("/")
    if e.startswith("cgi-bin/"):
        e = e[len("cgi-bin/"):]
    return e.split("?", 1)[0].rstrip("/")


def _token_end(info: dict) -> float:
    end = info["expires_at"]
    return min(end, info["revoked_at"]) if info["revoked_at"] is not None else end


def _summarize(query: dict, body: Any, files: dict | None) -> dict:
    """What a call carried, small enough to keep: long strings cut, secrets and uploads not kept."""
    def cut(v: Any) -> Any:
        if isinstance(v, str):
            return v if len(v) <= 200 else v[:200] + f"…(+{len(v) - 200})"
        if isinstance(v, dict):
            return {k: ("***" if k in ("secret", "access_token") else cut(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [cut(x) for x in v[:50]]
        return v
    params = {"query": cut(query)}
    if body is INVALID_BODY:
        params["body"] = "(not a JSON object)"
    elif body:
        params["body"] = cut(body)
    if files:
        params["files"] = {k: {"filename": f, "size": len(d)} for k, (f, d) in files.items()}
    return params


def _page_args(body: dict) -> tuple[int, int]:
    try:
        offset, count = int(body.get("offset", 0)), int(body.get("count", 20))
    except (TypeError, ValueError):
        raise WxError(47001) from None
    if offset < 0 or not 1 <= count <= 20:
        raise WxError(40035)
    return offset, count


def _public_items(items: list[dict], no_content: bool = False) -> list[dict]:
    out = []
    for item in items:
        public = {k: v for k, v in item.items() if k not in ("stripped_images", "scripts_removed")}
        if no_content:
            public.pop("content", None)
        out.append(public)
    return out


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def sniff_image(data: bytes) -> str | None:
    """The image type by content (never by file name): jpg, png, gif, bmp or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    return None


def clean_content(html: str, known_names: frozenset[str], hosts: frozenset[str]) -> tuple[str, list[str], int]:
    """What WeChat does to a draft's content: scripts removed, <img> whose src was not issued by this
    platform stripped. Returns (content, stripped image URLs, scripts removed). Unchanged content is
    returned verbatim (re-serialising would alter what the bot sent for no reason)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    scripts = soup.find_all("script")
    stripped = []
    for img in soup.find_all("img"):
        src = (img.get("src") or img.get("data-src") or "").strip()
        parts = urlsplit(src)
        name = parts.path.rsplit("/", 1)[-1]
        if not (parts.path.startswith("/mmbiz/") and name in known_names and parts.netloc in hosts):
            stripped.append(src)
            img.decompose()
    for s in scripts:
        s.decompose()
    if not scripts and not stripped:
        return html, [], 0
    return str(soup), stripped, len(scripts)


def validate_menu(body: Any) -> None:
    """WeChat's menu limits (D-menu): 1–3 buttons, 1–5 sub-buttons, name ≤ 16 bytes (sub ≤ 60),
    key ≤ 128 bytes, url ≤ 1024 bytes; each violation with its own code (40016…40027)."""
    buttons = body.get("button") if isinstance(body, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise WxError(40016)
    for button in buttons:
        if not isinstance(button, dict):
            raise WxError(47001)
        if len((button.get("name") or "").encode("utf-8")) > 16 or not button.get("name"):
            raise WxError(40018)
        subs = button.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                raise WxError(40023)
            for sub in subs:
                if not isinstance(sub, dict) or not sub.get("name") or \
                        len(sub["name"].encode("utf-8")) > 60:
                    raise WxError(40025)
                _check_leaf(sub, sub=True)
        elif "sub_button" in button and not button.get("type"):
            raise WxError(40023)  # an empty sub-menu
        else:
            _check_leaf(button, sub=False)


def _check_leaf(button: dict, sub: bool) -> None:
    btype = button.get("type")
    if btype not in MENU_TYPES:
        raise WxError(40024 if sub else 40017)
    key = button.get("key") or ""
    url = button.get("url") or ""
    if (btype in ("click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
                  "pic_weixin", "location_select") and not key) or len(key.encode("utf-8")) > 128:
        raise WxError(40026 if sub else 40019)
    if (btype in ("view", "miniprogram") and not url) or len(url.encode("utf-8")) > 1024:
        raise WxError(40027 if sub else 40020)


def publish_event_xml(account_id: str, create_time: int, pub: dict) -> str:
    """PUBLISHJOBFINISH as in wechat-api.md §5 (fail_idx repeated per failed article; that XML shape is
    unconfirmed)."""
    info: list[tuple[str, Any]] = [("publish_id", int(pub["publish_id"])),
                                   ("publish_status", pub["status"])]
    if pub["status"] == 0:
        info.append(("article_id", pub["article_id"]))
        info.append(("article_detail", [("count", len(pub["article_urls"]))] + [
            ("item", [("idx", i + 1), ("article_url", u)]) for i, u in enumerate(pub["article_urls"])]))
    for idx in pub["fail_idx"]:
        info.append(("fail_idx", idx))
    return build_xml([
        ("ToUserName", account_id), ("FromUserName", PLATFORM_SENDER), ("CreateTime", create_time),
        ("MsgType", "event"), ("Event", "PUBLISHJOBFINISH"), ("PublishEventInfo", info),
    ])


def mass_event_xml(account_id: str, create_time: int, mass: dict) -> str:
    """MASSSENDJOBFINISH with the counts, a CopyrightCheckResult (never a reprint here) and
    ArticleUrlResult (wechat-api.md §6)."""
    sent = mass["status"] == "sent"
    recipients = len(mass["recipients"])
    urls = mass["article_urls"] if sent else []
    return build_xml([
        ("ToUserName", account_id), ("FromUserName", PLATFORM_SENDER), ("CreateTime", create_time),
        ("MsgType", "event"), ("Event", "MASSSENDJOBFINISH"), ("MsgID", mass["msg_id"]),
        ("Status", "send success" if sent else "send fail"),
        ("TotalCount", mass["total_count"]), ("FilterCount", recipients),
        ("SentCount", recipients if sent else 0), ("ErrorCount", 0 if sent else recipients),
        ("CopyrightCheckResult", [("Count", 0), ("ResultList", []), ("CheckState", 1)]),
        ("ArticleUrlResult", [("Count", len(urls)), ("ResultList", [
            ("item", [("ArticleIdx", i + 1), ("ArticleUrl", u)]) for i, u in enumerate(urls)])]),
    ])


Handler = Callable[[Platform, dict, Any, dict], Any]

_ENDPOINTS: dict[str, Handler] = {
    "token": Platform._api_token,
    "stable_token": Platform._api_stable_token,
    "message/custom/send": Platform._api_custom_send,
    "media/uploadimg": Platform._api_uploadimg,
    "media/uploadnews": Platform._api_uploadnews,
    "material/add_material": Platform._api_add_material,
    "draft/add": Platform._api_draft_add,
    "draft/get": Platform._api_draft_get,
    "draft/delete": Platform._api_draft_delete,
    "draft/count": Platform._api_draft_count,
    "draft/batchget": Platform._api_draft_batchget,
    "freepublish/submit": Platform._api_publish_submit,
    "freepublish/get": Platform._api_publish_get,
    "freepublish/batchget": Platform._api_publish_batchget,
    "freepublish/delete": Platform._api_publish_delete,
    "freepublish/getarticle": Platform._api_publish_getarticle,
    "message/mass/sendall": Platform._api_mass_sendall,
    "message/mass/send": Platform._api_mass_send,
    "message/mass/preview": Platform._api_mass_preview,
    "message/mass/get": Platform._api_mass_get,
    "message/mass/delete": Platform._api_mass_delete,
    "tags/get": Platform._api_tags_get,
    "menu/create": Platform._api_menu_create,
    "menu/get": Platform._api_menu_get,
    "menu/delete": Platform._api_menu_delete,
    "user/get": Platform._api_user_get,
    "user/info": Platform._api_user_info,
}
ENDPOINTS = frozenset(_ENDPOINTS)
