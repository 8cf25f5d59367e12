"""The custom menu as editors keep it: each saved version, who saved it, and when it was synced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, utcnow


class CustomMenu(Base):
    """One saved version of the menu (`[menu]`'s shape: {"button": [...]}); the newest is current."""

    __tablename__ = "custom_menus"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[dict] = mapped_column(JSON)
    saved_by: Mapped[str] = mapped_column(String(64), default="")
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    synced_at: Mapped[datetime | None] = mapped_column()
