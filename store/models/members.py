"""The member registry: member units, their change history, binding codes, follower bindings and
the registry version other processes poll to notice an import."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, utcnow


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # 社会团体 / 基金会 / 社会服务机构
    role: Mapped[str] = mapped_column(String(20))  # 会长单位 … 会员单位
    joined_on: Mapped[date | None] = mapped_column(Date)
    grade: Mapped[str | None] = mapped_column(String(4))  # 5A … 1A, None = not evaluated
    grade_year: Mapped[int | None] = mapped_column(Integer)
    dues_paid_through: Mapped[int | None] = mapped_column(Integer)  # a year
    region: Mapped[str] = mapped_column(String(100), default="")
    contact_person: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    # Optional, for the registry's figures (store/members/stats.py): the date of registration with the
    # civil-affairs office, 参评资格 as the file states it (None: the file does not say), and the
    # number of evaluations taken.
    registered_on: Mapped[date | None] = mapped_column(Date)
    eligible: Mapped[bool | None] = mapped_column(Boolean)
    evaluations: Mapped[int | None] = mapped_column(Integer)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MemberHistory(Base):
    """One changed field of a member: what it was, what it became, when, and what changed it."""

    __tablename__ = "member_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the registry as of a date
    source: Mapped[str] = mapped_column(String(300))  # e.g. "import members.xlsx", "retire"


class BindCode(Base):
    """A one-time code an editor gives a member unit; only its SHA-256 is stored."""

    __tablename__ = "member_bind_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    used_by: Mapped[str | None] = mapped_column(String(64))


class Binding(Base):
    """A follower linked to a member unit; active while `revoked_at` is empty."""

    __tablename__ = "member_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class BindingEvent(Base):
    """The audit log of bindings: bind, unbind (by the follower), revoke (by an editor), unsubscribe."""

    __tablename__ = "member_binding_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MemberRegistry(Base):
    """One row whose version goes up with every change to the registry, so that every process's
    in-memory lookup index notices an import made elsewhere (store/members/index.py)."""

    __tablename__ = "member_registry"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FigureSnapshot(Base):
    """The registry's figures for one (registry version, day, options), computed once and read by every
    process (store/members/snapshots.py); rows of older versions are dropped when a newer one is written."""

    __tablename__ = "member_figure_snapshots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    figures: Mapped[str] = mapped_column(Text)  # JSON
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
