"""The audit log (操作日志): one row per change, from the console or the CLI, and the query its page
filters with. `record` drops anything that looks like a secret from what it stores (passwords,
tokens, keys, hashes), whatever the caller passed."""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from store.db import SessionFactory
from store.models.console import AuditEntry

SECRET_WORDS = ("password", "passwd", "secret", "token", "key", "hash", "csrf", "cookie")
PAGE = 50


@dataclass(frozen=True)
class Actor:
    """Who does something and from where: an editor in the console (with the client address) or the
    operating-system user of a CLI command (or `--as NAME`)."""

    name: str
    via: str = "console"  # console | cli
    address: str = ""


def cli_actor(as_name: str | None = None) -> Actor:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment (a container without /etc/passwd entry)
        user = "unknown"
    return Actor(name=as_name or user, via="cli", address=socket.gethostname()[:64])


def scrub(values: dict | None) -> dict | None:
    """The mapping without keys that name a secret (nested mappings too)."""
    if values is None:
        return None
    out = {}
    for k, v in values.items():
        if any(w in str(k).lower() for w in SECRET_WORDS) and str(k) != "password":
            continue
        if str(k) == "password":  # only that it changed, never the value
            v = "（已更改）"
        out[k] = scrub(v) if isinstance(v, dict) else v
    return out


def entry(actor: Actor, action: str, at: datetime, *, target_type: str = "", target_id: object = "",
          summary: str = "", before: dict | None = None, after: dict | None = None) -> AuditEntry:
    """The row, for a caller that writes it in its own transaction."""
    return AuditEntry(at=at, actor=actor.name[:64], via=actor.via, address=actor.address[:64], action=action,
                      target_type=target_type, target_id=str(target_id), summary=summary,
                      before=scrub(before), after=scrub(after))


async def record(db: SessionFactory, clock: Clock, actor: Actor, action: str, **kw: object) -> None:
    async with db.begin() as s:
        s.add(entry(actor, action, clock.now(), **kw))  # type: ignore[arg-type]


async def add_in(s: AsyncSession, clock: Clock, actor: Actor, action: str, **kw: object) -> None:
    s.add(entry(actor, action, clock.now(), **kw))  # type: ignore[arg-type]


async def search(db: SessionFactory, *, actor: str = "", action: str = "", target_type: str = "",
                 target_id: str = "", since: datetime | None = None, until: datetime | None = None,
                 before_id: int | None = None, limit: int = PAGE) -> tuple[list[AuditEntry], int]:
    """The newest entries matching every filter given (keyset-paged by id), and how many match."""
    cond = []
    if actor:
        cond.append(AuditEntry.actor == actor)
    if action:
        cond.append(AuditEntry.action == action)
    if target_type:
        cond.append(AuditEntry.target_type == target_type)
    if target_id:
        cond.append(AuditEntry.target_id == target_id)
    if since is not None:
        cond.append(AuditEntry.at >= since)
    if until is not None:
        cond.append(AuditEntry.at < until)
    async with db() as s:
        total = await s.scalar(select(func.count()).select_from(AuditEntry).where(*cond))
        q = select(AuditEntry).where(*cond)
        if before_id is not None:
            q = q.where(AuditEntry.id < before_id)
        rows = (await s.scalars(q.order_by(AuditEntry.id.desc()).limit(limit))).all()
    return list(rows), int(total or 0)
