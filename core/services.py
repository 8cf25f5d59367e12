"""The services of one process: built once by app.open_services (for `serve` and every command
alike) and handed to whatever needs them. Every field is typed; nothing is looked up by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.followers import FollowerStore
    from bot.messagelog import LogWriter
    from core.clock import Clock
    from core.config import Settings
    from core.shared import SharedState
    from store.db import SessionFactory
    from store.keywords import KeywordTable
    from store.members.index import MemberLookup
    from store.members.stats import FiguresCache
    from wechat.api import WeChatAPI


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: SessionFactory
    shared: SharedState  # what several processes agree on (core/shared.py; backends in store/shared.py)
    api: WeChatAPI
    followers: FollowerStore  # follower records, written behind (bot/followers.py)
    messagelog: LogWriter  # the message log and its writer, which also writes the follower records
    members: MemberLookup  # the member units' lookup index (store/members/index.py)
    keywords: KeywordTable  # the editors' keyword rules as this process last read them (store/keywords.py)
    figures: FiguresCache  # the registry's figures last computed (store/members/stats.py)
