"""Tables of the follower-facing webhook: followers, editors' keyword rules and the message log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base


class Follower(Base):
    """One follower: subscription, when we last heard from them, their customer-service windows
    (what the platform lets us send outside a passive reply), the pending conversation step and
    replies held back for their next message."""

    __tablename__ = "followers"
    # The console's follower list reads the latest contacts first (store/messages/followers.py).
    __table_args__ = (Index("ix_followers_last_seen", "last_seen"),)

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    last_message_at: Mapped[datetime | None]
    # A message opens 5 sends / 48 h; a click, subscribe or scan 3 sends / 1 min (客服消息; wechat/limits.py).
    message_window_at: Mapped[datetime | None]
    message_window_used: Mapped[int] = mapped_column(Integer, default=0)
    event_window_at: Mapped[datetime | None]
    event_window_used: Mapped[int] = mapped_column(Integer, default=0)
    # {"kind": ..., "data": {...}, "expires": epoch seconds} or null.
    state: Mapped[dict | None] = mapped_column(JSON)
    # Replies the platform would not let us send yet: [{"type": "text", ...}, ...].
    held: Mapped[list | None] = mapped_column(JSON)


class KeywordRule(Base):
    """An editor's keyword → reply rule. Deleting only flags the row, so a rule seeded from
    `[[keywords]]` and deleted by an editor is not seeded again (`seed_key` remembers it)."""

    __tablename__ = "keyword_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    match: Mapped[str] = mapped_column(String(16))
    pattern: Mapped[str] = mapped_column(String(512))
    reply: Mapped[str] = mapped_column(Text)
    reply_type: Mapped[str] = mapped_column(String(8), default="text")
    title: Mapped[str] = mapped_column(String(256), default="")
    url: Mapped[str] = mapped_column(String(1024), default="")
    picurl: Mapped[str] = mapped_column(String(1024), default="")
    priority: Mapped[int] = mapped_column(Integer, default=100)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    seed_key: Mapped[str | None] = mapped_column(String(600), unique=True)
    # Every write takes max(revision) + 1: a process reloads its cache when the maximum moves.
    revision: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MessageLog(Base):
    """Every inbound message and every reply, written in batches off the reply's path. Widths fit
    what WeChat sends: `event:` + the longest event name (31), a dedupe key with a 128-byte menu
    key in it (bot/messagelog.py cuts anything longer rather than lose the batch)."""

    __tablename__ = "message_log"
    __table_args__ = (Index("ix_message_log_openid_at", "openid", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    openid: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    channel: Mapped[str] = mapped_column(String(16))  # webhook | passive | customer | held
    msg_type: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text, default="")
    msg_key: Mapped[str | None] = mapped_column(String(255))  # the dedupe key of the inbound message
    elapsed_ms: Mapped[float | None] = mapped_column(Float)
