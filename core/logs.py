"""The process's log lines: `[log] format = "text"` (for people) or `"json"` (one object a line, for
a collector), times in UTC either way. A line about a message, a follower or a push carries the
MsgId, the follower's openid hashed (`hashed()`: the same follower gives the same hash, the hash
gives nobody the openid) and the push id as fields (`about()`), passed with `extra=`:

    log.warning("customer-service send failed (%s)", e, extra=logs.about(openid=openid))

Whatever a line says, the formatter takes out what must never be logged: the AppSecret, the
token, the EncodingAESKey and the passwords of the configured URLs (`secrets_of()`), access_token
values in URLs, and mainland mobile numbers (members' contact phones)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from core.config import Settings

FIELDS = ("msg_id", "user", "push_id")
_ACCESS_TOKEN = re.compile(r"(access_token[\"']?\s*[=:]\s*[\"']?)[^&\s\"',}]+", re.IGNORECASE)
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_HANDLER_NAME = "wxbot"


def hashed(openid: str | None) -> str:
    """A follower in the logs: 12 hex digits of SHA-256 of the openid."""
    return "" if not openid else "u" + hashlib.sha256(openid.encode()).hexdigest()[:12]


def about(*, openid: str | None = None, msg_key: str | None = None, push_id: int | None = None) -> dict:
    """The `extra=` of a log call: which follower (hashed), message (MsgId, or the dedupe key of an
    event) and push it is about."""
    extra: dict[str, Any] = {}
    if openid:
        extra["user"] = hashed(openid)
    if msg_key:
        extra["msg_id"] = msg_key[2:] if msg_key.startswith("m:") else msg_key
    if push_id is not None:
        extra["push_id"] = push_id
    return extra


def secrets_of(settings: Settings) -> list[str]:
    """What must never appear in a log line or an answer."""
    w = settings.wechat
    found = [w.secret, w.token, w.encoding_aes_key]
    for url in (settings.database.url, settings.redis.url):
        password = urlsplit(url).password if "://" in url else None
        if password:
            found += [password, unquote(password)]
    return sorted({s for s in found if s and len(s) >= 3}, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "…")
    text = _ACCESS_TOKEN.sub(r"\1…", text)
    return _MOBILE.sub(r"\1****\2", text)


class _Scrubbing(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(self.render(record), self.secrets)

    def render(self, record: logging.LogRecord) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


def _utc(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}"


class TextFormatter(_Scrubbing):
    """`2026-05-01 08:00:00.123 UTC INFO name: message [msg_id=… user=… push_id=…]`, one line an
    event: a newline in the message, and a traceback's, is written as ⏎."""

    def render(self, record: logging.LogRecord) -> str:
        line = f"{_utc(record)} UTC {record.levelname} {record.name}: {record.getMessage()}"
        context = " ".join(f"{k}={getattr(record, k)}" for k in FIELDS if getattr(record, k, None) is not None)
        if context:
            line += f" [{context}]"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += " ⏎ " + record.exc_text
        return line.replace("\r\n", "\n").replace("\n", " ⏎ ")


class JsonFormatter(_Scrubbing):
    """One JSON object a line: ts (UTC), level, logger, message, the fields that apply, and the
    traceback as one string."""

    def render(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        out: dict[str, Any] = {"ts": ts, "level": record.levelname, "logger": record.name,
                               "message": record.getMessage()}
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(format: str = "text", secrets: Iterable[str] = (), force: bool = False) -> None:
    """The process's one log handler (on stderr), replaced when called again (once the settings are
    read: their format and secrets); our loggers at INFO, the narrating libraries at WARNING. Like
    logging.basicConfig, it leaves a root logger with handlers of someone else's alone (a test
    runner's) unless `force`."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == _HANDLER_NAME]
    if not force and len(ours) < len(root.handlers):
        return
    for h in ours:
        root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter(secrets) if format == "json" else TextFormatter(secrets))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # APScheduler logs every run of every job, Alembic every step of every migration.
    for name in ("apscheduler", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
