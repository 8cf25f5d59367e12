"""Customer-service windows: what a follower's last action lets the account send outside a passive
reply (客服消息; the numbers are wechat/limits.py's). A message opens 5 sends in 48 h; a menu click
(of the kinds that deliver an event), a subscribe or a scan opens 3 sends in 1 minute. The counters
live on the follower's record (bot/followers.py writes it); these functions only read and change it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wechat.limits import EVENT_WINDOW, MESSAGE_WINDOW

WINDOW_EVENTS = {"click", "scancode_push", "scancode_waitmsg", "subscribe", "subscribe_scan", "scan"}


def open_for(follower: Any, message: Any, now: datetime) -> None:
    """The window an inbound message or event opens (a new action resets the quota rather than
    adding to it: stated for mini-programs, assumed for the account)."""
    if message.type == "event":
        if (message.event or "").lower() in WINDOW_EVENTS:
            follower.event_window_at, follower.event_window_used = now, 0
    else:
        follower.message_window_at, follower.message_window_used = now, 0


def _open(follower: Any, now: datetime) -> list[tuple[str, int]]:
    """Open windows with what is left in each, the short one first (it expires sooner)."""
    found = []
    for prefix, (span, quota) in (("event", EVENT_WINDOW), ("message", MESSAGE_WINDOW)):
        opened: datetime | None = getattr(follower, f"{prefix}_window_at")
        used: int = getattr(follower, f"{prefix}_window_used") or 0
        if opened is not None and now - opened < span and used < quota:
            found.append((prefix, quota - used))
    return found


def capacity(follower: Any, now: datetime) -> int:
    """How many customer-service messages the platform would still take for this follower.
    Both windows count (a message then a click: unconfirmed whether they add up; we assume so
    and let 45047 from the platform correct us)."""
    if not follower.subscribed:
        return 0
    return sum(left for _, left in _open(follower, now))


def spend(follower: Any, now: datetime) -> bool:
    """Count one send against the window that expires first; False if none is open."""
    if not follower.subscribed:
        return False
    for prefix, _ in _open(follower, now):
        attr = f"{prefix}_window_used"
        setattr(follower, attr, (getattr(follower, attr) or 0) + 1)
        return True
    return False


def close(follower: Any) -> None:
    """No window (the platform said no, 45015/45047, or the follower left)."""
    follower.message_window_at = follower.event_window_at = None
