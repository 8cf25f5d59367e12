"""What a handler gets besides the message: the services of the process, the follower, the
conversation state and what the matching rule captured. Handlers never see HTTP, signatures or XML."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.router import Router
    from core.clock import Clock
    from core.config import Settings
    from core.services import Services
    from store.db import SessionFactory
    from wechat.api import WeChatAPI


class ConversationState(Protocol):
    """A follower's pending step (a numbered choice, 「更多」, a held-back reply)."""

    @property
    def pending(self) -> tuple[str, dict] | None:
        """(kind, data) of the step the follower is expected to answer, if it has not expired."""

    async def expect(self, kind: str, data: dict, ttl_seconds: float) -> None:
        """Wait for the follower's next input to answer step `kind`."""

    async def clear(self) -> None:
        """Forget the pending step."""


@dataclass
class Context:
    services: Services
    openid: str
    follower: Any  # the follower's row (store.models.webhook.Follower), read at the start
    state: ConversationState
    args: str = ""
    match: re.Match | None = None
    routers: Sequence[Router] = ()  # the routers in their order, for 帮助 (handlers/help.py)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def db(self) -> SessionFactory:
        return self.services.db

    @property
    def api(self) -> WeChatAPI:
        return self.services.api

    @property
    def clock(self) -> Clock:
        return self.services.clock
