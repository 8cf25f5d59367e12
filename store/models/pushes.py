"""Pushes: what the scheduler sends (a publish or a broadcast of 1–8 articles), its ordered articles,
its timeline of state changes and WeChat answers, the previews sent to editors (one row per recipient)
and the notices sent to editors about it.

The states and their transitions are declared in scheduler/states.py; these rows are its memory.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.db import Base, utcnow


class Push(Base):
    __tablename__ = "pushes"
    __table_args__ = (Index("ix_pushes_state_next_run_at", "state", "next_run_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # publish | broadcast
    state: Mapped[str] = mapped_column(String(20), default="planned")
    planned_at: Mapped[datetime] = mapped_column(index=True)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the scheduler should look at this push next (NULL: it waits for an editor or an event).
    next_run_at: Mapped[datetime | None] = mapped_column()
    # Broadcast target: a tag (name as given, id as resolved through tags/get), else all followers.
    tag_name: Mapped[str | None] = mapped_column(String(64))
    tag_id: Mapped[int | None] = mapped_column(Integer)
    # Options of the push (草稿箱 draft/add fields; 群发 send_ignore_reprint).
    source_url: Mapped[str | None] = mapped_column(String(1024))  # 阅读原文 override
    open_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    fans_only_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    send_ignore_reprint: Mapped[bool] = mapped_column(Boolean, default=False)
    preview: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    # The approval's own states (scheduler/states.py REVIEW): draft | submitted | rejected | approved,
    # with the approver's comment on a rejection, who wrote the push and who submitted it.
    review: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    review_comment: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    # Every editor action that changes what is sent increments this; drafts of older revisions are stale.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # What WeChat gave back, each stored before the next call that depends on it.
    media_id: Mapped[str | None] = mapped_column(String(128))
    news_media_id: Mapped[str | None] = mapped_column(String(128))  # media/uploadnews fallback
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    clientmsgid: Mapped[str | None] = mapped_column(String(64))
    publish_id: Mapped[str | None] = mapped_column(String(64))
    msg_id: Mapped[str | None] = mapped_column(String(64))
    msg_data_id: Mapped[str | None] = mapped_column(String(64))
    article_id: Mapped[str | None] = mapped_column(String(128))
    polls: Mapped[int] = mapped_column(Integer, default=0)
    # Consecutive transient failures of the current step (backs off; reset on progress).
    retries: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_reason: Mapped[str | None] = mapped_column(Text)
    # Set by auto-drafting: one push per compose run, even with several scheduler processes.
    compose_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A lease: the process working on the push now, and until when (a dead process's claim expires).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_until: Mapped[datetime | None] = mapped_column()
    submit_started_at: Mapped[datetime | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    articles: Mapped[list[PushArticle]] = relationship(
        order_by="PushArticle.position", lazy="raise", cascade="all, delete-orphan"
    )

    @property
    def next_clientmsgid(self) -> str:
        """The push id and the attempt: a resend of one attempt is deduplicated by WeChat for 24 h."""
        return f"push-{self.id}-{self.attempt}"


class PushArticle(Base):
    __tablename__ = "push_articles"
    __table_args__ = (UniqueConstraint("push_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # The WeChat URL of this article in this push, once known.
    url: Mapped[str | None] = mapped_column(String(1024))


class PushEvent(Base):
    """One line of a push's timeline: a state change, a WeChat answer, an editor's action."""

    __tablename__ = "push_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # state | wechat | editor | note
    state: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None] = mapped_column(JSON)


class PushPreview(Base):
    """One preview of one revision of a push to one recipient: sending (the call is under way, or
    the process died during it) → sent | failed, with WeChat's code and the reason in words."""

    __tablename__ = "push_previews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    openid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="sending")
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_reason: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class Notification(Base):
    """A notice to one editor about a push: pending → sending → sent, or waiting (the editor's
    customer-service window is closed: tried again every tick until it opens), or obsolete (no
    longer true when its turn came: never sent). It records what it reports (the push's state,
    revision and planned time) so that delivery can tell. Notices that need an editor (a failure, a
    missed time) stay listed until acknowledged (`acked_at`). Kept whatever happens."""

    __tablename__ = "push_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id", ondelete="CASCADE"), index=True)
    openid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # approval | scheduled | rescheduled | done | failed | overdue
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    push_state: Mapped[str | None] = mapped_column(String(20))
    push_revision: Mapped[int | None] = mapped_column(Integer)
    push_planned_at: Mapped[datetime | None] = mapped_column()
    # Why it is not (yet) delivered, or why it was dropped, in words.
    detail: Mapped[str | None] = mapped_column(Text)
    acked_at: Mapped[datetime | None] = mapped_column()
    acked_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
