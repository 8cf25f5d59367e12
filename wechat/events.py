"""Typed job-finish events that wechatpy lacks or maps too little of: PUBLISHJOBFINISH (发布能力,
https://developers.weixin.qq.com/doc/offiaccount/Publish/Publish.html) and MASSSENDJOBFINISH (群发接口和原创校验,
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html).

Importing this module registers them with wechatpy's parser, so `parse_message` yields them with
`.event` == "publishjobfinish" / "masssendjobfinish" and `Router.event(...)` routes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wechatpy.events import EVENT_TYPES, BaseEvent


def _items(node: Any, name: str = "item") -> list[dict]:
    """xmltodict gives one child as a dict and several as a list; always a list of dicts here."""
    if not isinstance(node, dict):
        return []
    found = node.get(name)
    if found is None:
        return []
    return [i for i in (found if isinstance(found, list) else [found]) if isinstance(i, dict)]


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class ArticleUrl:
    idx: int
    url: str


class PublishJobFinishEvent(BaseEvent):
    """`freepublish/submit` finished: status 0 = published, 1 = publishing, 2 = original-check
    failed, 3 = failed, 4 = rejected by the platform, 5/6 = deleted/banned (发布能力).

    `fail_idx`: the XML shape is unconfirmed; we accept one or several `<fail_idx>` elements,
    either directly in `PublishEventInfo` or wrapped in `<fail_idx><item>` like the URLs."""

    event = "publishjobfinish"

    def __init__(self, message: dict) -> None:
        super().__init__(message)
        info = message.get("PublishEventInfo") or {}
        if not isinstance(info, dict):
            info = {}
        self.publish_id: str = str(info.get("publish_id") or "")
        self.status: int = _int(info.get("publish_status"), -1)
        self.article_id: str = str(info.get("article_id") or "")
        self.article_urls: list[ArticleUrl] = [
            ArticleUrl(_int(i.get("idx")), str(i.get("article_url") or ""))
            for i in _items(info.get("article_detail"))
        ]
        raw = info.get("fail_idx")
        raw = raw.get("item") if isinstance(raw, dict) else raw
        raw = raw if isinstance(raw, list) else [] if raw is None else [raw]
        self.fail_idx: list[int] = [_int(v) for v in raw if not isinstance(v, dict)]

    @property
    def dedupe_part(self) -> str:
        return self.publish_id


@dataclass(frozen=True)
class ArticleUrlResult:
    idx: int
    url: str


class MassSendJobFinishEvent(BaseEvent):
    """A mass send finished (群发): Status is "send success", "send fail" or "err(<num>)";
    the copyright check's `check_state` is 1 not a reprint, 2 reprint allowed, 3 reprint refused."""

    event = "masssendjobfinish"

    def __init__(self, message: dict) -> None:
        super().__init__(message)
        self.msg_id: int = _int(message.get("MsgID") or message.get("MsgId"))
        self.status: str = str(message.get("Status") or "")
        self.total_count = _int(message.get("TotalCount"))
        self.filter_count = _int(message.get("FilterCount"))
        self.sent_count = _int(message.get("SentCount"))
        self.error_count = _int(message.get("ErrorCount"))
        results = message.get("ArticleUrlResult") or {}
        self.article_urls: list[ArticleUrlResult] = [
            ArticleUrlResult(_int(i.get("ArticleIdx")), str(i.get("ArticleUrl") or ""))
            for i in _items(results.get("ResultList") if isinstance(results, dict) else None)
        ]
        check = message.get("CopyrightCheckResult") or {}
        check = check if isinstance(check, dict) else {}
        self.check_state: int = _int(check.get("CheckState"))
        self.copyright_results: list[dict] = _items(check.get("ResultList"))

    @property
    def succeeded(self) -> bool:
        return self.status.strip().lower() == "send success"

    @property
    def dedupe_part(self) -> str:
        return str(self.msg_id)


EVENT_TYPES["publishjobfinish"] = PublishJobFinishEvent
EVENT_TYPES["masssendjobfinish"] = MassSendJobFinishEvent
