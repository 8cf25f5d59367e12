"""The access token: fetched from `cgi-bin/stable_token`, cached in the shared state per account (so
every process uses the same one) with a hot copy in memory in front, and refreshed one at a time.

One refresh at a time across processes: an asyncio lock in the process, then the shared lock, and the
cache is read again once it is held. A token a call was refused with (40001/40014/42001) is dropped
only if it is still the cached one; the next is fetched with `force_refresh` at most once per 30 s
across processes (WeChat allows 20 forced refreshes a day, at least 30 s apart: 获取稳定版接口调用凭据,
https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core import metrics
from core.clock import Clock
from core.config import WeChatSettings
from core.shared import LockTimeout, SharedState
from wechat.errors import FatalCredentials, TokenInvalid, TransientError

log = logging.getLogger(__name__)

# A cached token counts as expired this long before WeChat's expiry, so no call carries a token that
# dies in flight. stable_token always hands out tokens with at least 300 s left, so this never starves.
TOKEN_MARGIN_SECONDS = 60.0
# WeChat: forced refreshes at least 30 s apart, 20 a day. Shared, so all processes together obey it.
FORCE_REFRESH_INTERVAL = 30.0
# After a credentials failure, calls fail at once for this long instead of each asking for a token
# (the secret only changes with a restart; a fixed IP whitelist is picked up after this).
FATAL_HOLD_SECONDS = 60.0

# `fetch(force)`: the stable_token call itself (the API client's, with its retry policy) → its JSON.
Fetch = Callable[[bool], Awaitable[dict]]


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float  # clock.time()
    raw: str  # exactly what the shared store holds, for compare-and-delete

    @classmethod
    def parse(cls, raw: str) -> _Token:
        data = json.loads(raw)
        return cls(data["access_token"], float(data["expires_at"]), raw)


class Tokens:
    """The access token of one account, for every call of the API client."""

    def __init__(self, settings: WeChatSettings, shared: SharedState, clock: Clock, fetch: Fetch) -> None:
        self.settings = settings
        self.shared = shared
        self.clock = clock
        self.fetch = fetch
        self._token_key = f"wechat:token:{settings.account_key}"
        self._force_key = f"wechat:force-refresh:{settings.account_key}"
        self._hot: _Token | None = None
        self._local = asyncio.Lock()
        self._fatal: tuple[FatalCredentials, float] | None = None  # (error, until clock.monotonic())

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

    async def get(self) -> str:
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
                        token = await self._cached() or await self._fetch(force=False)
        return token.value

    def _raise_if_fatal(self) -> None:
        if self._fatal is not None:
            error, until = self._fatal
            if self.clock.monotonic() < until:
                raise error
            self._fatal = None

    async def replace(self, refused: str, code: int) -> str:
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
                    return (await self._cached() or await self._fetch(force=False)).value
                if raw:
                    await self.shared.delete(self._token_key, expect=raw)
                self._hot = None
                force = await self.shared.add(self._force_key, str(self.clock.time()), FORCE_REFRESH_INTERVAL)
                if not force:
                    log.warning("token refused (%s); a forced refresh ran < %ss ago, fetching normally",
                                code, FORCE_REFRESH_INTERVAL)
                token = await self._fetch(force=force)
        if token.value == refused:
            raise TokenInvalid(
                code,
                "WeChat refused the access token and handed the same one back "
                f"(a forced refresh is allowed once per {FORCE_REFRESH_INTERVAL:.0f} s)",
            )
        return token.value

    async def _fetch(self, force: bool) -> _Token:
        try:
            body = await self.fetch(force)
        except FatalCredentials as e:
            self._fatal = (e, self.clock.monotonic() + FATAL_HOLD_SECONDS)
            raise
        expires_in = float(body.get("expires_in", 7200))
        raw = json.dumps({"access_token": body["access_token"], "expires_at": self.clock.time() + expires_in})
        token = _Token.parse(raw)
        await self.shared.set(self._token_key, raw, ttl=max(1.0, expires_in - TOKEN_MARGIN_SECONDS))
        self._hot = token
        metrics.TOKEN_REFRESHES.labels(str(force).lower()).inc()
        log.info("fetched an access token%s, valid %.0f s", " (forced refresh)" if force else "", expires_in)
        return token
