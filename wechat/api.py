"""The async WeChat API client: the endpoints the product uses, over one call with the retry policy.

wechatpy's client is synchronous, lacks `stable_token`, has no refresh lock and retries token errors
without a cap, so this small client replaces it for HTTP; wechatpy stays for crypto, parsing and
reply rendering.

- Every call, the token included, goes to `{api_base_url}/cgi-bin/...`, on the injected ClientSession,
  with `[wechat] timeout_seconds` per call. The token is wechat/token.py's.
- A call refused with 40001/40014/42001 gets a new token (wechat/token.py) and is retried once. A
  second refusal raises TokenInvalid; nothing loops.
- Retry policy: -1 and 45011 back off and retry up to 3 times, and so does a call that got no answer,
  but only for idempotent calls. A send without an idempotency key (customer-service send, mass send
  without clientmsgid, preview, freepublish/submit) is never repeated blindly: no answer raises
  OutcomeUnknown, and the caller reconciles before trying again. Everything else raises the
  wechat/errors.py class for its code (全局返回码说明,
  https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html).
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections import Counter
from typing import Any

import aiohttp

from core import metrics
from core.clock import Clock
from core.config import WeChatSettings
from core.shared import SharedState
from wechat.errors import (
    TOKEN,
    TRANSIENT,
    FatalCredentials,
    OutcomeUnknown,
    TransientError,
    WeChatError,
    error_for,
)
from wechat.replies import NewsItem
from wechat.token import Tokens

log = logging.getLogger(__name__)

MAX_RETRIES = 3
BACKOFF_SECONDS = (1.0, 2.0, 4.0)
# 45011 means "retry next minute"; never wait longer than a minute for it.
MINUTE_QUOTA_WAIT_CAP = 60.0
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
# 40001 from the token endpoint itself is not a stale token but a wrong appid/secret pair.
_REFUSED_AT_FETCH = "the appid/secret pair was refused: check [wechat] appid and secret"


class _NoAnswer(Exception):
    """Transport failure: no JSON answer was read."""


class ApiMetrics:
    """Calls counted per (endpoint, errcode); errcode 0 is success, None is "no answer"."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, int | None]] = Counter()

    def count(self, endpoint: str, errcode: int | None) -> None:
        self._counts[(endpoint, errcode)] += 1
        metrics.WECHAT_CALLS.labels(endpoint, str(errcode).lower()).inc()

    def snapshot(self) -> dict[tuple[str, int | None], int]:
        return dict(self._counts)


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
        self.tokens = Tokens(settings, shared, self.clock, self._stable_token)

    async def access_token(self) -> str:
        return await self.tokens.get()

    async def _stable_token(self, force: bool) -> dict:
        payload = {
            "grant_type": "client_credential",
            "appid": self.settings.appid,
            "secret": self.settings.secret,
            "force_refresh": force,
        }
        # A forced refresh is not repeated on its own: two of them within 30 s would be refused.
        return await self._call("stable_token", payload=payload, idempotent=not force, authenticated=False)

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
                await self.tokens.replace(token, code)
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
        # The statistics live beside cgi-bin (https://api.weixin.qq.com/datacube/<name>).
        url = f"{self.base_url}/{endpoint}" if endpoint.startswith("datacube/") else f"{self.base_url}/cgi-bin/{endpoint}"
        query = {**({"access_token": token} if token else {}), **(params or {})}
        kwargs: dict[str, Any] = {
            "params": query,
            "timeout": aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
        }
        if payload is not None:
            # Real UTF-8: WeChat stores \uXXXX escapes literally in titles and content (草稿箱, draft/add).
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

    async def send_news(self, openid: str, article: NewsItem) -> None:
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

    # --- 数据统计 (wechat/datacube.py reads the answers) ----------------------------------------------

    async def datacube(self, name: str, begin: str, end: str) -> dict:
        """POST datacube/<name> with the days (YYYY-MM-DD) → {"list": [...], "is_delay"?}. A read: retried."""
        return await self._call(f"datacube/{name}", payload={"begin_date": begin, "end_date": end})

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
