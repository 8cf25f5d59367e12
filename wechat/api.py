"""The async WeChat API client: the endpoints the bot uses, the access token, and the retry policy.

wechatpy's client is synchronous, lacks `stable_token`, has no refresh lock and retries token errors
without a cap (../shared/reference/wechat-api.md §4, §10), so this small client replaces it for HTTP;
wechatpy stays for crypto, parsing and reply rendering.

- Every call, the token included, goes to `{api_base_url}/cgi-bin/...`, on the injected ClientSession,
  with `[wechat] timeout_seconds` per call.
- The token comes from `cgi-bin/stable_token`, cached in the SharedState per api_base_url + appid (so all
  processes share it) with a hot copy in memory in front. One refresh at a time across processes: an
  asyncio lock in the process, then the shared lock, and the cache is read again once it is held.
- A call refused with 40001/40014/42001 drops the cached token only if it is still the one refused,
  fetches a new one (with `force_refresh` at most once per 30 s across processes: WeChat allows 20 a day,
  at least 30 s apart) and retries the call once. A second refusal raises TokenInvalid; nothing loops.
- Retry policy (§9): -1 and 45011 back off and retry up to 3 times, and so does a call that got no answer,
  but only for idempotent calls. A send without an idempotency key (customer-service send, mass send
  without clientmsgid, preview, freepublish/submit) is never repeated blindly: no answer raises
  OutcomeUnknown, and the caller reconciles before trying again. Everything else raises the bot.errors
  class for its code.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from core.clock import Clock
from core.config import WeChatSettings
from store.shared import LockTimeout, SharedState
from wechat.errors import (
    TOKEN,
    TRANSIENT,
    FatalCredentials,
    TokenInvalid,
    TransientError,
    WeChatError,
    error_for,
)
from wechat.replies import Article

log = logging.getLogger(__name__)

# A cached token counts as expired this long before WeChat's expiry, so no call carries a token that
# dies in flight. stable_token always hands out tokens with at least 300 s left, so this never starves.
TOKEN_MARGIN_SECONDS = 60.0
# WeChat: forced refreshes at least 30 s apart, 20 a day. Shared, so all processes together obey it.
FORCE_REFRESH_INTERVAL = 30.0
MAX_RETRIES = 3
BACKOFF_SECONDS = (1.0, 2.0, 4.0)
# 45011 means "retry next minute"; never wait longer than a minute for it.
MINUTE_QUOTA_WAIT_CAP = 60.0
# After a credentials failure, calls fail at once for this long instead of each asking for a token
# (the secret only changes with a restart; a fixed IP whitelist is picked up after this).
FATAL_HOLD_SECONDS = 60.0

_IP_WHITELIST = (
    "this server's IP address is not on the account's IP whitelist "
    "(mp.weixin.qq.com → 设置与开发 → 基本配置 → IP白名单)"
)
FATAL_REASONS = {
    40013: "the appid is invalid: check [wechat] appid (or WECHAT_APPID)",
    40125: "the AppSecret is invalid: check [wechat] secret (or WECHAT_SECRET)",
    40243: "the AppSecret is frozen: unfreeze or reset it on mp.weixin.qq.com",
    40164: _IP_WHITELIST,
    # The new guide names 61004 for the whitelist while every observed response is 40164: handle both.
    61004: _IP_WHITELIST,
}
# 40001 from the token endpoint itself is not a stale token but a wrong appid/secret pair (§4).
_REFUSED_AT_FETCH = "the appid/secret pair was refused: check [wechat] appid and secret"


class OutcomeUnknown(TransientError):
    """A send that must not be repeated blindly got no usable answer (timeout, dropped connection, a
    non-JSON reply or -1): it may or may not have happened. The caller must reconcile before retrying."""


class _NoAnswer(Exception):
    """Transport failure: no JSON answer was read."""


class ApiMetrics:
    """Calls counted per (endpoint, errcode); errcode 0 is success, None is "no answer"."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, int | None]] = Counter()

    def count(self, endpoint: str, errcode: int | None) -> None:
        self._counts[(endpoint, errcode)] += 1

    def snapshot(self) -> dict[tuple[str, int | None], int]:
        return dict(self._counts)


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float  # clock.time()
    raw: str  # exactly what the shared store holds, for compare-and-delete

    @classmethod
    def parse(cls, raw: str) -> _Token:
        data = json.loads(raw)
        return cls(data["access_token"], float(data["expires_at"]), raw)


class WeChatAPI:
    def __init__(
        self,
        settings: WeChatSettings,
        http: aiohttp.ClientSession,
        shared: SharedState,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        self.shared = shared
        self.clock = clock or Clock()
        self.base_url = settings.api_base_url.rstrip("/")
        self.metrics = ApiMetrics()
        account = f"{self.base_url}|{settings.appid}"
        self._token_key = f"wechat:token:{account}"
        self._force_key = f"wechat:force-refresh:{account}"
        self._hot: _Token | None = None
        self._local = asyncio.Lock()
        self._fatal: tuple[FatalCredentials, float] | None = None  # (error, until clock.monotonic())

    # --- the access token ------------------------------------------------------------------------

    def _fresh(self, token: _Token | None) -> _Token | None:
        if token is not None and token.expires_at - TOKEN_MARGIN_SECONDS > self.clock.time():
            return token
        return None

    async def _cached(self) -> _Token | None:
        """The hot copy, else the shared store's token (which then becomes the hot copy)."""
        if self._fresh(self._hot):
            return self._hot
        raw = await self.shared.get(self._token_key)
        token = self._fresh(_Token.parse(raw)) if raw else None
        if token is not None:
            self._hot = token
        return token

    @asynccontextmanager
    async def _refresh_lock(self) -> AsyncIterator[None]:
        wait = 4 * self.settings.timeout_seconds + 10
        try:
            async with self.shared.lock(self._token_key, ttl=wait, timeout=wait):
                yield
        except LockTimeout as e:
            raise TransientError(None, "timed out waiting for another token refresh", "stable_token") from e

    async def access_token(self) -> str:
        """A valid token; fetched at most once at a time across every process sharing the state."""
        self._raise_if_fatal()
        token = await self._cached()
        if token is None:
            async with self._local:
                self._raise_if_fatal()
                # Whoever held a lock before us may have fetched one already: look again each time.
                token = await self._cached()
                if token is None:
                    async with self._refresh_lock():
                        token = await self._cached() or await self._fetch_token(force=False)
        return token.value

    def _raise_if_fatal(self) -> None:
        if self._fatal is not None:
            error, until = self._fatal
            if self.clock.monotonic() < until:
                raise error
            self._fatal = None

    async def _replace_token(self, refused: str, code: int) -> str:
        """Called when a call was refused with `refused`; returns the token to retry with."""
        async with self._local:
            if self._hot is not None and self._hot.value == refused:
                self._hot = None
            token = await self._cached()
            if token is not None and token.value != refused:
                return token.value  # replaced already, by this process or another
            async with self._refresh_lock():
                raw = await self.shared.get(self._token_key)
                if raw and _Token.parse(raw).value != refused:
                    return (await self._cached() or await self._fetch_token(force=False)).value
                if raw:
                    await self.shared.delete(self._token_key, expect=raw)
                self._hot = None
                force = await self.shared.add(self._force_key, str(self.clock.time()), FORCE_REFRESH_INTERVAL)
                if not force:
                    log.warning("token refused (%s); a forced refresh ran < %ss ago, fetching normally",
                                code, FORCE_REFRESH_INTERVAL)
                token = await self._fetch_token(force=force)
        if token.value == refused:
            raise TokenInvalid(
                code,
                "WeChat refused the access token and handed the same one back "
                f"(a forced refresh is allowed once per {FORCE_REFRESH_INTERVAL:.0f} s)",
            )
        return token.value

    async def _fetch_token(self, force: bool) -> _Token:
        payload = {
            "grant_type": "client_credential",
            "appid": self.settings.appid,
            "secret": self.settings.secret,
            "force_refresh": force,
        }
        try:
            # A forced refresh is not repeated on its own: two of them within 30 s would be refused.
            body = await self._call("stable_token", payload=payload, idempotent=not force, authenticated=False)
        except FatalCredentials as e:
            self._fatal = (e, self.clock.monotonic() + FATAL_HOLD_SECONDS)
            raise
        expires_in = float(body.get("expires_in", 7200))
        raw = json.dumps({"access_token": body["access_token"], "expires_at": self.clock.time() + expires_in})
        token = _Token.parse(raw)
        await self.shared.set(self._token_key, raw, ttl=max(1.0, expires_in - TOKEN_MARGIN_SECONDS))
        self._hot = token
        log.info("fetched an access token%s, valid %.0f s", " (forced refresh)" if force else "", expires_in)
        return token

    # --- one call, with the retry policy -----------------------------------------------------------

    async def _call(
        self,
        endpoint: str,
        *,
        method: str = "POST",
        payload: Any = None,
        params: dict[str, Any] | None = None,
        upload: tuple[bytes, str] | None = None,
        idempotent: bool = True,
        authenticated: bool = True,
        accept: frozenset[int] = frozenset(),
    ) -> dict:
        """POST/GET `cgi-bin/{endpoint}` and return the JSON body (errcode 0 or one in `accept`)."""
        retries = 0
        refused: str | None = None
        while True:
            token = await self.access_token() if authenticated else None
            try:
                body = await self._send(endpoint, method, token, payload, params, upload)
                code = int(body.get("errcode", 0) or 0)
            except _NoAnswer as e:
                if not idempotent:
                    raise OutcomeUnknown(
                        None, f"{e}; the outcome is unknown: reconcile before sending again", endpoint
                    ) from e
                if retries < MAX_RETRIES:
                    await self.clock.sleep(BACKOFF_SECONDS[retries])
                    retries += 1
                    continue
                raise TransientError(None, str(e), endpoint) from e
            if code == 0 or code in accept:
                return body
            message = str(body.get("errmsg", ""))
            if code in TOKEN and authenticated and refused is None:
                # The call was refused before it ran, so repeating it once is safe even for a send.
                refused = token
                await self._replace_token(token, code)
                continue
            if code in TRANSIENT and idempotent and retries < MAX_RETRIES:
                await self.clock.sleep(self._backoff(code, retries))
                retries += 1
                continue
            raise self._error(code, message, endpoint, body, idempotent, authenticated)

    def _backoff(self, code: int, retry: int) -> float:
        if code == 45011:  # "retry next minute"
            return min(MINUTE_QUOTA_WAIT_CAP, max(1.0, 60.0 - self.clock.time() % 60.0))
        return BACKOFF_SECONDS[retry]

    def _error(
        self, code: int, message: str, endpoint: str, body: dict, idempotent: bool, authenticated: bool
    ) -> WeChatError:
        if code in FATAL_REASONS or (code in TOKEN and not authenticated):
            reason = FATAL_REASONS.get(code, _REFUSED_AT_FETCH)
            log.error("WeChat credentials problem on %s: %s (errcode %s: %s)", endpoint, reason, code, message)
            return FatalCredentials(code, f"{reason} (WeChat said: {message})", endpoint)
        if code == -1 and not idempotent:
            # "System busy" on a send: WeChat may or may not have done it.
            return OutcomeUnknown(code, f"{message}; the outcome is unknown: reconcile before sending again",
                                  endpoint)
        return error_for(code, message, endpoint, msg_id=body.get("msg_id"))

    async def _send(
        self,
        endpoint: str,
        method: str,
        token: str | None,
        payload: Any,
        params: dict[str, Any] | None,
        upload: tuple[bytes, str] | None,
    ) -> dict:
        url = f"{self.base_url}/cgi-bin/{endpoint}"
        query = {**({"access_token": token} if token else {}), **(params or {})}
        kwargs: dict[str, Any] = {
            "params": query,
            "timeout": aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
        }
        if payload is not None:
            # Real UTF-8: WeChat stores \uXXXX escapes literally in titles and content (§5).
            kwargs["data"] = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            kwargs["headers"] = {"Content-Type": "application/json; charset=utf-8"}
        elif upload is not None:
            data, filename = upload
            form = aiohttp.FormData()
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            form.add_field("media", data, filename=filename, content_type=content_type)
            kwargs["data"] = form
        try:
            async with self.http.request(method, url, **kwargs) as resp:
                status, raw = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            self.metrics.count(endpoint, None)
            raise _NoAnswer(f"no answer from {url}: {type(e).__name__} {e}".rstrip()) from e
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.metrics.count(endpoint, None)
            raise _NoAnswer(f"{url} answered HTTP {status} without a JSON object")
        self.metrics.count(endpoint, int(body.get("errcode", 0) or 0))
        return body

    # --- customer-service messages (sends: never repeated blindly) -------------------------------

    async def _custom_send(self, openid: str, msgtype: str, content: dict) -> None:
        payload = {"touser": openid, "msgtype": msgtype, msgtype: content}
        await self._call("message/custom/send", payload=payload, idempotent=False)

    async def send_text(self, openid: str, text: str) -> None:
        await self._custom_send(openid, "text", {"content": text})

    async def send_news(self, openid: str, article: Article) -> None:
        item = {"title": article.title, "description": article.description, "url": article.url,
                "picurl": article.picurl}
        await self._custom_send(openid, "news", {"articles": [item]})

    async def send_image(self, openid: str, media_id: str) -> None:
        await self._custom_send(openid, "image", {"media_id": media_id})

    # --- media and drafts -------------------------------------------------------------------------
    # Uploads and draft/add are retried: a repeat only leaves an unused copy that no follower sees,
    # and the caller keeps just the id it got back.

    async def upload_image(self, data: bytes, filename: str) -> str:
        """An image for article bodies (jpg/png < 1 MB) → its URL."""
        body = await self._call("media/uploadimg", upload=(data, filename))
        return body["url"]

    async def upload_news(self, articles: list[dict]) -> str:
        body = await self._call("media/uploadnews", payload={"articles": articles})
        return body["media_id"]

    async def add_material(self, data: bytes, filename: str, type: str = "image") -> tuple[str, str]:
        """Permanent material → (media_id, url); thumbs have no url ("")."""
        if type not in ("image", "thumb"):
            raise ValueError(f"material type must be 'image' or 'thumb', not {type!r}")
        body = await self._call("material/add_material", params={"type": type}, upload=(data, filename))
        return body["media_id"], body.get("url", "")

    async def draft_add(self, articles: list[dict]) -> str:
        body = await self._call("draft/add", payload={"articles": articles})
        return body["media_id"]

    async def draft_get(self, media_id: str) -> dict:
        return await self._call("draft/get", payload={"media_id": media_id})

    async def draft_delete(self, media_id: str) -> None:
        await self._call("draft/delete", payload={"media_id": media_id})

    async def draft_batchget(self, offset: int = 0, count: int = 20, no_content: bool = False) -> dict:
        payload = {"offset": offset, "count": count, "no_content": int(no_content)}
        return await self._call("draft/batchget", payload=payload)

    # --- publishing ---------------------------------------------------------------------------------

    async def publish_submit(self, media_id: str) -> str:
        """Submit a draft for publishing → publish_id. No answer raises OutcomeUnknown: look for the
        publish (publish_batchget, draft_get) before submitting again."""
        body = await self._call("freepublish/submit", payload={"media_id": media_id}, idempotent=False)
        return body["publish_id"]

    async def publish_get(self, publish_id: str) -> dict:
        return await self._call("freepublish/get", payload={"publish_id": publish_id})

    async def publish_batchget(self, offset: int = 0, count: int = 20, no_content: bool = False) -> dict:
        payload = {"offset": offset, "count": count, "no_content": int(no_content)}
        return await self._call("freepublish/batchget", payload=payload)

    async def publish_delete(self, article_id: str, index: int = 0) -> None:
        """Delete a published article (index is 1-based; 0 = all of it). Irreversible."""
        await self._call("freepublish/delete", payload={"article_id": article_id, "index": index})

    # --- mass send ----------------------------------------------------------------------------------

    async def _mass(self, endpoint: str, payload: dict, clientmsgid: str | None) -> dict:
        if clientmsgid:
            payload["clientmsgid"] = clientmsgid
        # With a clientmsgid WeChat deduplicates for 24 h, so a repeat is safe; without one it is not.
        body = await self._call(endpoint, payload=payload, idempotent=bool(clientmsgid),
                                accept=frozenset({45065}))
        duplicate = int(body.get("errcode", 0) or 0) == 45065
        if duplicate:
            if body.get("msg_id") is None:
                # Not seen from WeChat, but then the first msg_id is unknown: let the caller reconcile.
                raise error_for(45065, str(body.get("errmsg", "")), endpoint)
            log.info("%s: clientmsgid %s was sent before as msg_id %s", endpoint, clientmsgid, body["msg_id"])
        return {"msg_id": body["msg_id"], "msg_data_id": body.get("msg_data_id"), "duplicate": duplicate}

    async def mass_sendall(
        self,
        media_id: str,
        *,
        tag_id: int | None = None,
        clientmsgid: str | None,
        send_ignore_reprint: int = 0,
    ) -> dict:
        """Broadcast a draft to all followers (or one tag) → {msg_id, msg_data_id, duplicate}.
        45065 (this clientmsgid was sent already) returns the first send's msg_id, duplicate=True."""
        filter_ = {"is_to_all": True} if tag_id is None else {"is_to_all": False, "tag_id": tag_id}
        payload = {"filter": filter_, "mpnews": {"media_id": media_id}, "msgtype": "mpnews",
                   "send_ignore_reprint": send_ignore_reprint}
        return await self._mass("message/mass/sendall", payload, clientmsgid)

    async def mass_send(
        self,
        openids: list[str],
        media_id: str,
        *,
        clientmsgid: str | None = None,
        send_ignore_reprint: int = 0,
    ) -> dict:
        """Broadcast a draft to 2–10,000 followers by openid → {msg_id, msg_data_id, duplicate}."""
        if not 2 <= len(openids) <= 10_000:
            raise ValueError(f"mass/send takes 2 to 10,000 openids, not {len(openids)}")
        payload = {"touser": list(openids), "mpnews": {"media_id": media_id}, "msgtype": "mpnews",
                   "send_ignore_reprint": send_ignore_reprint}
        return await self._mass("message/mass/send", payload, clientmsgid)

    async def mass_preview(self, openid: str, media_id: str) -> dict:
        payload = {"touser": openid, "mpnews": {"media_id": media_id}, "msgtype": "mpnews"}
        return await self._call("message/mass/preview", payload=payload, idempotent=False)

    async def mass_get(self, msg_id: int | str) -> dict:
        return await self._call("message/mass/get", payload={"msg_id": msg_id})

    async def mass_delete(self, msg_id: int | str, article_idx: int = 0) -> None:
        """Withdraw a broadcast (article_idx is 1-based; 0 = every article)."""
        await self._call("message/mass/delete", payload={"msg_id": msg_id, "article_idx": article_idx})

    # --- tags, menu, followers ------------------------------------------------------------------------

    async def tags_get(self) -> dict:
        """{"tags": [{id, name, count}, …]}"""
        return await self._call("tags/get", method="GET")

    async def menu_create(self, menu: dict) -> None:
        await self._call("menu/create", payload=menu)

    async def menu_get(self) -> dict:
        return await self._call("menu/get", method="GET")

    async def user_get(self, next_openid: str = "") -> dict:
        """{total, count, data: {openid: [...]}, next_openid}; pass next_openid on to page."""
        return await self._call("user/get", method="GET", params={"next_openid": next_openid})

    async def user_info(self, openid: str, lang: str = "zh_CN") -> dict:
        return await self._call("user/info", method="GET", params={"openid": openid, "lang": lang})
