"""The few reply types a handler may return. Rendering to XML (and the platform's limits) is
wechat/render.py's job; handlers only say what to answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    content: str


@dataclass(frozen=True)
class NewsItem:
    """One article of a news reply (a card: title, digest, link, picture)."""

    title: str
    description: str = ""
    url: str = ""
    picurl: str = ""


@dataclass(frozen=True)
class News:
    articles: tuple[NewsItem, ...]

    def __init__(self, articles) -> None:  # accept any iterable, store a tuple
        object.__setattr__(self, "articles", tuple(articles))


@dataclass(frozen=True)
class Image:
    media_id: str


@dataclass(frozen=True)
class TransferToCustomerService:
    kf_account: str = ""


Reply = Text | News | Image | TransferToCustomerService
