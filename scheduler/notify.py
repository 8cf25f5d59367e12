"""Editor notices about pushes: written as rows in the same transaction as the state change they
report (so none is lost to a crash), then delivered by `flush` as customer-service messages through
bot/outbox.py, which holds a notice for the editor's next message when their window is closed.

A notice is claimed (pending → sending) before it is sent: a crash mid-send leaves it "sending" in
the table, visible in `push show`, rather than sending it twice.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from bot.context import Services
from bot.replies import Text
from store.models.pushes import Notification

log = logging.getLogger("scheduler.notify")


def notices(services: Services, push_id: int, kind: str, text: str) -> list[Notification]:
    """One pending notice per editor (none when no editor is configured)."""
    now = services.clock.now()
    return [
        Notification(push_id=push_id, openid=openid, kind=kind, text=text, status="pending", created_at=now)
        for openid in services.settings.editors.openids
    ]


async def flush(services: Services, limit: int = 50) -> int:
    """Deliver pending notices; returns how many went out or were held."""
    from bot.outbox import deliver

    async with services.db() as s:
        ids = list(
            (
                await s.scalars(
                    select(Notification.id)
                    .where(Notification.status == "pending")
                    .order_by(Notification.id)
                    .limit(limit)
                )
            ).all()
        )
    done = 0
    for nid in ids:
        async with services.db.begin() as s:
            claimed = await s.execute(
                update(Notification)
                .where(Notification.id == nid, Notification.status == "pending")
                .values(status="sending")
            )
            if claimed.rowcount != 1:
                continue  # another process took it
            note = await s.get(Notification, nid)
        try:
            status = await deliver(services, note.openid, Text(note.text))
        except Exception:  # a notice must never stop the pipeline; it stays visible as failed
            log.exception("notice %s to %s failed", nid, note.openid)
            status = "failed"
        log.info("push %s notice %s to %s: %s", note.push_id, note.kind, note.openid, status)
        async with services.db.begin() as s:
            await s.execute(
                update(Notification)
                .where(Notification.id == nid)
                .values(status=status, sent_at=services.clock.now())
            )
        done += 1
    return done
