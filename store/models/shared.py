"""Key/value rows with an expiry: the shared state (token, dedupe claims, locks) on PostgreSQL."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base


class SharedEntry(Base):
    __tablename__ = "shared_kv"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
