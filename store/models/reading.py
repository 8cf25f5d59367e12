"""The account's reading figures as WeChat's 数据统计 reported them (store/reading/ writes and reads
them; scheduler/reading.py fetches them): followers by day and source, cumulative followers, the
articles sent out, each article's figures by day and its running totals, the account's reads by
hour, and which (endpoint, day) queries are done."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.db import Base, utcnow


class FollowerSource(Base):
    """getusersummary: one row per (day, user_source)."""

    __tablename__ = "reading_follower_sources"

    ref_date: Mapped[date] = mapped_column(Date, primary_key=True)
    user_source: Mapped[int] = mapped_column(Integer, primary_key=True)
    new_user: Mapped[int] = mapped_column(Integer, default=0)
    cancel_user: Mapped[int] = mapped_column(Integer, default=0)


class FollowerDay(Base):
    """getusercumulate: followers at the end of the day."""

    __tablename__ = "reading_follower_days"

    ref_date: Mapped[date] = mapped_column(Date, primary_key=True)
    cumulate_user: Mapped[int] = mapped_column(Integer)


class ReadArticle(Base):
    """One article sent out (msgid = "<msg_data_id>_<index>", index 1-based), linked to the push and
    the content-store article it came from when the product sent it."""

    __tablename__ = "reading_articles"

    msgid: Mapped[str] = mapped_column(String(64), primary_key=True)
    msg_data_id: Mapped[str] = mapped_column(String(64), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    sent_on: Mapped[date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    content_url: Mapped[str] = mapped_column(String(1024), default="")
    notified: Mapped[bool | None] = mapped_column(Boolean)  # 群发 (True) or a silent publish (False)
    push_id: Mapped[int | None] = mapped_column(ForeignKey("pushes.id", ondelete="SET NULL"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))


class ArticleDay(Base):
    """An article's figures of one day (None: the endpoints used did not say)."""

    __tablename__ = "reading_article_days"

    msgid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ref_date: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    read_user: Mapped[int] = mapped_column(Integer, default=0)
    read_count: Mapped[int | None] = mapped_column(Integer)
    share_user: Mapped[int | None] = mapped_column(Integer)
    share_count: Mapped[int | None] = mapped_column(Integer)
    fav_user: Mapped[int | None] = mapped_column(Integer)
    fav_count: Mapped[int | None] = mapped_column(Integer)


class ArticleTotal(Base):
    """An article's totals from its sending day up to stat_date (getarticletotal,
    getarticletotaldetail): the per-day favourites of the 发表内容 statistics come from these."""

    __tablename__ = "reading_article_totals"

    msgid: Mapped[str] = mapped_column(String(64), primary_key=True)
    stat_date: Mapped[date] = mapped_column(Date, primary_key=True)
    read_user: Mapped[int] = mapped_column(Integer, default=0)
    share_user: Mapped[int] = mapped_column(Integer, default=0)
    fav_user: Mapped[int] = mapped_column(Integer, default=0)


class ReadHour(Base):
    """getuserreadhour, all channels: the account's mass-sent articles read in one hour."""

    __tablename__ = "reading_hours"

    ref_date: Mapped[date] = mapped_column(Date, primary_key=True)
    ref_hour: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0, 100 … 2300
    read_user: Mapped[int] = mapped_column(Integer, default=0)
    read_count: Mapped[int] = mapped_column(Integer, default=0)
    share_user: Mapped[int] = mapped_column(Integer, default=0)
    share_count: Mapped[int] = mapped_column(Integer, default=0)


class Fetched(Base):
    """A query done: `endpoint` for `ref_date`, answered with the figures final up to `through` (the
    latest ready day then); `refused` when WeChat refused that day (61501)."""

    __tablename__ = "reading_fetches"

    endpoint: Mapped[str] = mapped_column(String(32), primary_key=True)
    ref_date: Mapped[date] = mapped_column(Date, primary_key=True)
    through: Mapped[date] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
