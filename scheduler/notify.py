"""Editor notices about pushes: written as rows in the same transaction as the state change they
report (scheduler/states.py; so none is lost to a crash), delivered by `flush` (every tick) as one
customer-service message per editor through bot/outbox.py.

A notice records what it reports (the push's state, revision and planned time). When its turn comes
and that is no longer so — "需要批准" after the push was approved or finished — it is dropped
(obsolete), never sent. An editor whose customer-service window is closed is not sent to: the notice
waits (and is tried every tick) until the editor writes to the account, and several waiting notices
then go as one message. A failure or a missed time goes to every editor, so it reaches whoever can
receive it first, and stays listed (`push list`) until an editor acknowledges it (`push ack N`).

A notice is claimed (→ sending) before it is sent: a crash mid-send leaves it "sending" (unknown),
visible in `push show`, rather than sending it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select, update

from core import logs
from core.services import Services
from scheduler import planning, previews, texts
from store.models.pushes import Notification, Push, PushPreview
from wechat.limits import TEXT_BYTES
from wechat.render import utf8_len
from wechat.replies import Text

log = logging.getLogger("scheduler.notify")

# Notices that ask an editor to act on a push that did not go out; listed until acknowledged.
ATTENTION = ("failed", "overdue")
DELIVERABLE = ("pending", "waiting")

Notice = tuple[str, str | Callable[[str], str]]


def notices(services: Services, push: Push, kind: str, text: str | Callable[[str], str]) -> list[Notification]:
    """One pending notice per editor (none when no editor is configured), remembering what it reports."""
    now = services.clock.now()
    return [
        Notification(push_id=push.id, openid=openid, kind=kind, text=text if isinstance(text, str) else text(openid),
                     status="pending", push_state=push.state, push_revision=push.revision,
                     push_planned_at=push.planned_at, created_at=now)
        for openid in services.settings.editors.openids
    ]


def source_notices(services: Services, source: str, kind: str, text: str) -> list[Notification]:
    """One pending notice per editor about a polled source (scheduler/sources.py), not a push."""
    now = services.clock.now()
    return [Notification(push_id=None, source=source, openid=openid, kind=kind, text=text, status="pending",
                         created_at=now) for openid in services.settings.editors.openids]


def stale(note: Notification, push: Push | None) -> str | None:
    """Why the notice is no longer true (None: it still is)."""
    if note.acked_at is not None:
        return texts.NOTICE_ACKED.format(by=note.acked_by or "")
    if note.push_id is None:  # about a source: true when written, and a run's report stays true
        return None
    if push is None or note.push_state is None:
        return None if push is not None else texts.NOTICE_OBSOLETE.format(id=note.push_id, state="已删除")
    if note.kind == "approval":
        # Still waiting for an approval, for the time it names (an edit of the time asks anew).
        same = (push.state in ("drafted", "previewed") and push.approved_by is None
                and push.planned_at == note.push_planned_at)
    else:
        same = push.state == note.push_state and push.revision == note.push_revision
        if note.kind in ("scheduled", "rescheduled"):
            same = same and push.planned_at == note.push_planned_at
    if same:
        return None
    state = texts.WAITING_APPROVAL if push.state in ("drafted", "previewed") and not push.approved_by else \
        texts.STATE[push.state]
    return texts.NOTICE_OBSOLETE.format(id=push.id, state=state)


# --- what the notices say ---------------------------------------------------------------------------


def _fmt(services: Services, push: Push) -> dict:
    return dict(id=push.id, kind=texts.KIND[push.kind], count=len(push.articles), cmd=texts.CMD,
                at=planning.show(push.planned_at, services.settings))


def approval(services: Services, push: Push, rows: list[PushPreview]) -> Notice:
    """Asks for an approval; tells each editor whether the preview reached them."""
    last = previews.latest(rows)

    def text(openid: str) -> str:
        mine = last.get(openid)
        if mine is None:
            line = texts.NOTICE_NO_PREVIEW
        elif mine.status == "sent":
            line = texts.NOTICE_PREVIEW_YOURS
        else:
            # The cause speaks of the recipient; this editor is the recipient.
            cause = (mine.error_reason or "").replace("对方", "您")
            line = texts.NOTICE_PREVIEW_NOT_YOURS.format(cause=cause, cmd=texts.CMD, id=push.id)
        return texts.NOTICE_APPROVAL.format(preview=line, **_fmt(services, push))

    return "approval", text


def scheduled(services: Services, push: Push) -> Notice:
    return "scheduled", texts.NOTICE_SCHEDULED.format(**_fmt(services, push))


def rescheduled(services: Services, push: Push, cause: str) -> Notice:
    return "rescheduled", texts.NOTICE_RESCHEDULED.format(cause=cause, **_fmt(services, push))


def done(services: Services, push: Push, urls: list[str]) -> Notice:
    return "done", texts.NOTICE_DONE.format(urls="\n".join(u for u in urls if u), **_fmt(services, push))


def failed(services: Services, push: Push, reason: str) -> Notice:
    return "failed", texts.NOTICE_FAILED.format(reason=reason, **_fmt(services, push))


def overdue(services: Services, push: Push) -> Notice:
    return "overdue", texts.NOTICE_OVERDUE.format(grace=services.settings.scheduler.grace_minutes,
                                                  **_fmt(services, push))


# --- delivery -------------------------------------------------------------------------------------


async def flush(services: Services, limit: int = 200) -> int:
    """Deliver what is due and still true; returns how many notices reached an editor."""
    from bot.outbox import deliver

    async with services.db() as s:
        notes = list((await s.scalars(select(Notification).where(Notification.status.in_(DELIVERABLE))
                                      .order_by(Notification.id).limit(limit))).all())
        ids = {n.push_id for n in notes}
        pushes = {p.id: p for p in (await s.scalars(select(Push).where(Push.id.in_(ids)))).all()}
    by_editor: dict[str, list[Notification]] = {}
    # A newer notice of the same kind about the same push (or source) supersedes the older ones.
    newest = {(n.push_id, n.source, n.openid, n.kind): n.id for n in notes}
    for note in notes:
        why = stale(note, pushes.get(note.push_id))
        if why is None and newest[(note.push_id, note.source, note.openid, note.kind)] != note.id:
            why = texts.NOTICE_SUPERSEDED
        if why is not None:
            await _set(services, [note], "obsolete", from_=DELIVERABLE, detail=why)
            continue
        by_editor.setdefault(note.openid, []).append(note)
    sent = 0
    for openid, mine in by_editor.items():
        mine.sort(key=lambda n: (n.kind not in ATTENTION, n.id))  # what needs an editor first
        claimed = await _set(services, mine, "sending", from_=DELIVERABLE)
        if not claimed:
            continue  # another process took them
        text, included = digest(claimed)
        await _set(services, claimed[len(included):], "pending", from_=("sending",))
        try:
            outcome = await deliver(services, openid, Text(text), hold_if_closed=False)
        except Exception:  # a notice must never stop the pipeline; it is tried again next tick
            log.exception("notices %s to %s", [n.id for n in included], logs.hashed(openid))
            outcome = "closed"
        if outcome == "sent":
            await _set(services, included, "sent", from_=("sending",), detail=None, sent_at=services.clock.now())
            sent += len(included)
        else:
            await _set(services, included, "waiting", from_=("sending",), detail=texts.NOTICE_WINDOW_CLOSED)
        log.info("notices %s to %s: %s", [n.id for n in included], logs.hashed(openid), outcome)
    return sent


def digest(notes: list[Notification]) -> tuple[str, list[Notification]]:
    """One message for an editor's notices (as many as fit in one text message, in order)."""
    if len(notes) == 1:
        return notes[0].text, notes
    included: list[Notification] = []
    body = ""
    for note in notes:
        more = texts.NOTICE_MORE.format(n=len(notes) - len(included) - 1)
        candidate = body + ("\n\n" if body else "") + note.text
        head = texts.NOTICE_DIGEST.format(n=len(included) + 1)
        if included and utf8_len(head + candidate + more) > TEXT_BYTES:
            break
        body = candidate
        included.append(note)
    rest = len(notes) - len(included)
    head = texts.NOTICE_DIGEST.format(n=len(included)) if len(included) > 1 else ""
    return head + body + (texts.NOTICE_MORE.format(n=rest) if rest else ""), included


async def _set(services: Services, notes: list[Notification], status: str, *, from_: tuple[str, ...],
               **values) -> list[Notification]:
    """Move each notice still in one of `from_` to `status`; returns those that moved."""
    moved = []
    async with services.db.begin() as s:
        for note in notes:
            got = await s.execute(update(Notification).where(Notification.id == note.id,
                                                             Notification.status.in_(from_))
                                  .values(status=status, **values))
            if got.rowcount == 1:
                note.status = status
                for key, value in values.items():
                    setattr(note, key, value)
                moved.append(note)
    return moved


# --- what editors see and acknowledge --------------------------------------------------------------


async def ack(services: Services, push_id: int, by: str) -> int:
    """An editor has seen the push's failure / missed-time notices: no longer listed, and copies not
    yet delivered to other editors are dropped. Returns how many notices it concerned."""
    now = services.clock.now()
    async with services.db.begin() as s:
        await s.execute(update(Notification).where(
            Notification.push_id == push_id, Notification.kind.in_(ATTENTION), Notification.acked_at.is_(None),
            Notification.status.in_(DELIVERABLE)).values(status="obsolete", detail=texts.NOTICE_ACKED.format(by=by)))
        got = await s.execute(update(Notification).where(
            Notification.push_id == push_id, Notification.kind.in_(ATTENTION), Notification.acked_at.is_(None))
            .values(acked_at=now, acked_by=by))
    return got.rowcount


async def open_items(services: Services) -> tuple[list[tuple[Push, list[Notification]]], list[Notification]]:
    """(pushes whose failure or missed time no editor has acknowledged, with their notices;
    other notices still true and not delivered yet)."""
    async with services.db() as s:
        notes = list((await s.scalars(select(Notification).where(
            (Notification.kind.in_(ATTENTION) & Notification.acked_at.is_(None))
            | Notification.status.in_((*DELIVERABLE, "sending"))).order_by(Notification.id))).all())
        ids = {n.push_id for n in notes}
        pushes = {p.id: p for p in (await s.scalars(select(Push).where(Push.id.in_(ids)))).all()}
    attention: dict[int, list[Notification]] = {}
    waiting: list[Notification] = []
    for note in notes:
        push = pushes.get(note.push_id)
        if note.status == "obsolete" or stale(note, push) is not None:
            continue
        if note.kind in ATTENTION:
            attention.setdefault(note.push_id, []).append(note)
        else:
            waiting.append(note)
    return [(pushes[pid], rows) for pid, rows in sorted(attention.items(), reverse=True)], waiting
