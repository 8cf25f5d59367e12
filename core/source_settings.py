"""The `[[sources]]` table of config.toml: a site's selectors and how the scheduler polls it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from core import texts
from core.section import Section

_EVERY = re.compile(r"every\s+(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?)", re.I)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


class SourceSettings(Section):
    """Per-site CSS selectors that override the generic article extractor, and the site's polling:
    `poll` ("every 30 min", or a five-field cron expression in [scheduler] timezone) has the
    scheduler import what is new on `url` (a listing; default base_url) by itself, and `on_new` says
    what becomes of a new article: stored (imported), ready, or queued into the next push."""

    name: str = Field(min_length=1)
    base_url: str = ""
    url: str = ""
    poll: str = ""
    on_new: Literal["store", "ready", "queue"] = "store"
    listing_item: str = ""
    next_page: str = ""
    title: str = ""
    date: str = ""
    source: str = ""
    body: str = ""
    drop: list[str] = []

    @field_validator("poll")
    @classmethod
    def _poll(cls, v: str, info: ValidationInfo) -> str:
        v = " ".join(v.split())
        if v and not (info.data.get("url") or info.data.get("base_url")):
            raise ValueError(texts.POLL_NEEDS_URL)
        if v and not _EVERY.fullmatch(v) and len(v.split(" ")) != 5:
            raise ValueError(texts.POLL_FORMAT)
        if (m := _EVERY.fullmatch(v)) and int(m.group(1)) == 0:
            raise ValueError(texts.POLL_POSITIVE)
        return v

    @property
    def poll_url(self) -> str:
        return self.url or self.base_url

    @property
    def poll_seconds(self) -> float | None:
        """The interval of an "every …" poll; None for a cron expression (or no polling)."""
        m = _EVERY.fullmatch(self.poll)
        return int(m.group(1)) * _UNIT_SECONDS[m.group(2)[0].lower()] if m else None
