"""The one settings schema: `config.toml` read once at start-up into typed, validated settings.

Every table of `config.toml` has its class here, so a stranger finds every key in one file (the
polled sources' `[[sources]]` in core/source_settings.py, beside it).
Only the secrets may come from the environment (WECHAT_APPID, WECHAT_SECRET, WECHAT_TOKEN,
WECHAT_ENCODING_AES_KEY); nothing else in the project reads the environment for settings.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from core import texts
from core.section import Section as _Section
from core.source_settings import SourceSettings

ENV_SECRETS = {
    "appid": "WECHAT_APPID",
    "secret": "WECHAT_SECRET",
    "token": "WECHAT_TOKEN",
    "encoding_aes_key": "WECHAT_ENCODING_AES_KEY",
}


class ConfigError(Exception):
    """A missing or invalid key; the message names the key and what is expected."""


class WeChatSettings(_Section):
    appid: str = Field(min_length=1)
    secret: str = Field(min_length=1)
    token: str = Field(min_length=3, max_length=32)
    encoding_aes_key: str = ""
    # The message encryption mode chosen on mp.weixin.qq.com (服务器配置 → 消息加解密方式): what the
    # webhook accepts. plain: plaintext only; compatible: plaintext or encrypted; safe: encrypted
    # only (a request without encrypt_type=aes is refused). Default: safe when encoding_aes_key is
    # set, else plain. (`[sandbox] mode` is what the local platform sends.)
    mode: Literal["plain", "compatible", "safe"] | None = Field(default=None, validate_default=True)
    account_id: str = Field(min_length=1)
    # The account's name as followers see it (公众号名称); the local platform shows it in the simulator.
    display_name: str = ""
    account_type: Literal["subscription", "service"] = "subscription"
    verified: bool = True
    api_base_url: str = "https://api.weixin.qq.com"
    timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key(cls, v: str) -> str:
        if v and not re.fullmatch(r"[A-Za-z0-9]{43}", v):
            raise ValueError(texts.AES_KEY)
        return v

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        if not re.match(r"https?://", v):
            raise ValueError(texts.HTTP_URL)
        return v.rstrip("/")

    @property
    def account_key(self) -> str:
        """This account on this platform: what its access token and the images uploaded for it are
        kept under (another api_base_url, the local one say, is another place)."""
        return f"{self.api_base_url}#{self.appid}"

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: str | None, info: ValidationInfo) -> str:
        if "encoding_aes_key" not in info.data:  # invalid itself, and said so
            return v or "plain"
        key = info.data["encoding_aes_key"]
        if v is None:
            return "safe" if key else "plain"
        if v != "plain" and not key:
            raise ValueError(texts.MODE_NEEDS_KEY)
        return v


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    webhook_path: str = "/wechat"
    # Public base URL of this server as the sandbox reaches it; empty = http://host:port.
    public_url: str = ""
    reply_budget_seconds: float = Field(default=4.5, gt=0, le=5)
    timestamp_window_seconds: int = Field(default=300, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # How long a request's body may take to arrive (WeChat sends it at once; a slow sender is cut off
    # with 408). Counted inside the reply budget.
    body_timeout_seconds: float = Field(default=2.0, gt=0, le=4)
    # How long a finished answer is kept for WeChat's retries, in this process and in the shared state
    # alike (bot/dedupe.py). Without an answer in 5 s WeChat drops the connection and tries again,
    # three tries in all (被动回复用户消息:
    # https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html):
    # the last try comes about 15 s after the first, so 20 s is the floor and 30 s leaves a margin.
    dedupe_ttl_seconds: int = Field(default=30, ge=20)
    # /metrics, /healthz and /readyz: a site of their own, off the public webhook (0 = none).
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # Several processes on one machine: the folder where each writes its counts, added up by
    # whichever answers /metrics (core/metrics.py). Empty: each process counts for itself.
    metrics_dir: str = ""

    @field_validator("webhook_path")
    @classmethod
    def _path_of_its_own(cls, v: str) -> str:
        # The webhook is one application beside others on this server (app.create_app), so it
        # needs a path below the root: "/wechat", not "/".
        if not re.fullmatch(r"/[^\s?#]*[^\s?#/][^\s?#]*", v):
            raise ValueError(texts.WEBHOOK_PATH)
        return v

    @field_validator("body_timeout_seconds")
    @classmethod
    def _body_within_budget(cls, v: float, info: ValidationInfo) -> float:
        if v >= info.data.get("reply_budget_seconds", 5):
            raise ValueError(texts.BODY_TIMEOUT)
        return v


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///data/bot.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
            raise ValueError(texts.DATABASE_URL)
        return v


class RedisSettings(_Section):
    url: str = ""


class SandboxSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=1, le=65535)
    mode: Literal["plain", "compatible", "safe"] = "safe"
    state_path: str = "data/sandbox.json"
    # Where the sandbox delivers follower messages and events; empty = the [server] webhook.
    webhook_url: str = ""


class RepliesSettings(_Section):
    welcome: str = "感谢关注！回复“帮助”查看我能做什么。"
    welcome_scene: str = "感谢扫码关注（场景：{scene}）！回复“帮助”查看我能做什么。"
    fallback: str = "抱歉，没有找到与“{text}”相关的内容。回复“帮助”查看可用的关键词。"


class KeywordSeed(_Section):
    match: Literal["exact", "prefix", "contains", "regex"] = "exact"
    pattern: str = Field(min_length=1)
    reply: str = Field(min_length=1)
    reply_type: Literal["text", "news"] = "text"
    # For news replies: the article fields; `reply` is then the description.
    title: str = ""
    url: str = ""
    picurl: str = ""
    priority: int = 100


class MenuButton(_Section):
    """One button of `[menu]`; wechat/menu.py checks WeChat's limits (自定义菜单) before syncing."""

    name: str = Field(min_length=1)
    type: str = "click"
    key: str = ""
    url: str = ""
    # miniprogram buttons: the mini program's appid and page (url is the fallback for old clients).
    appid: str = ""
    pagepath: str = ""
    # media_id / view_limited buttons: a permanent material; article_id(_view_limited): a published article.
    media_id: str = ""
    article_id: str = ""
    sub_button: list[MenuButton] = []


class MenuSettings(_Section):
    button: list[MenuButton] = []


class ContentSettings(_Section):
    auto_ready: bool = False
    media_dir: str = "data/media"
    fetch_concurrency: int = Field(default=4, ge=1, le=32)
    fetch_delay_seconds: float = Field(default=0.2, ge=0)
    fetch_timeout_seconds: float = Field(default=10.0, gt=0)
    max_image_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    user_agent: str = "FederationWeChatBot/1.0 (+content importer)"


class SchedulerSettings(_Section):
    enabled: bool = True
    timezone: str = "Asia/Shanghai"
    # Weekday name (mon..sun) → list of "HH:MM" slots.
    slots: dict[str, list[str]] = {}
    grace_minutes: int = Field(default=60, ge=0)
    auto_approve: bool = False
    compose_cron: str = "0 9 * * *"
    compose_max_articles: int = Field(default=8, ge=1, le=8)
    compose_tags: list[str] = []
    tick_seconds: float = Field(default=5.0, gt=0)
    # What auto-drafting composes: a silent publish or a broadcast to all followers.
    compose_kind: Literal["publish", "broadcast"] = "publish"
    # A process's lease on a push it works on; a crashed process's pushes are picked up after it.
    claim_seconds: float = Field(default=120.0, gt=0)
    # Pushes one tick works on at once.
    concurrency: int = Field(default=4, ge=1, le=64)
    # First outcome poll after a submit (then doubling, at most 30 min): the event is the normal
    # path and freepublish/get has a daily quota of 100.
    poll_seconds: float = Field(default=60.0, gt=0)
    # A publish submit with an unknown outcome is looked for this long (a publish in progress keeps
    # its draft in the box) before it is submitted again.
    publish_settle_seconds: float = Field(default=900.0, ge=0)
    # First back-off after a transient error (then doubling, at most 30 min).
    retry_seconds: float = Field(default=30.0, gt=0)
    # The account has API 群发保护 on: a broadcast to all waits (state "confirming") for an
    # administrator's confirmation, and fails when none comes within 30 minutes.
    broadcast_protection: bool = False
    # The reading figures (数据统计, scheduler/reading.py): when to look for yesterday's (WeChat has them
    # from 08:00 Beijing time; a run with nothing missing makes no call) and how many days back a run
    # fills what is missing.
    reading_cron: str = "35 8-23 * * *"
    reading_backfill_days: int = Field(default=30, ge=1, le=400)
    # Test hook for the crash tests: pipeline checkpoints ("before:draft_add", "after:submit"…)
    # at which the process logs "pipeline paused at …" and stops working. Never set in production.
    pause_at: list[str] = []

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except Exception as e:
            raise ValueError(texts.TIME_ZONE.format(zone=v)) from e
        return v


class EditorsSettings(_Section):
    openids: list[str] = []


class ConsoleSettings(_Section):
    """The editors' console (console/): on `serve`'s port under `path`, or on its own host/port when
    `port` is set (so it need not face the internet with the webhook)."""

    enabled: bool = True
    path: str = "/console"
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)  # 0: on [server] port, beside the webhook
    # The address the console is reached at, for the URL `make run` prints and links in notices.
    public_url: str = ""
    # Where the session cookie's key lives (created on first start, mode 0600); every process of
    # one deployment must read the same file.
    secret_file: str = "data/console.key"
    idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Login attempts: after this many failures within `lockout_minutes`, per account and per
    # client address, further attempts are refused until the window ends.
    max_failures: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    # Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed.
    trusted_proxies: list[str] = []
    # One-person offices: an approver may approve a push they wrote.
    allow_self_approval: bool = False

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not re.fullmatch(r"(/[A-Za-z0-9_-]+)+", v):
            raise ValueError(texts.CONSOLE_PATH)
        return v


class MembersSettings(_Section):
    bind_code_ttl_minutes: int = Field(default=60 * 24, ge=1)
    bind_attempts_per_hour: int = Field(default=5, ge=1)
    choice_ttl_minutes: int = Field(default=5, ge=1)
    # The member roles (会员类别) of this federation, highest first (federations differ): an import
    # rejects a row with any other role, and lookups list units in this order.
    roles: list[str] = ["会长单位", "常务副会长单位", "副会长单位", "理事单位", "会员单位"]

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        v = [r.strip() for r in v]
        if not v or any(not r or len(r) > 20 for r in v) or len(set(v)) != len(v):
            raise ValueError(texts.ROLES)
        return v


class LogSettings(_Section):
    retention_days: int = Field(default=180, ge=1)
    flush_seconds: float = Field(default=1.0, gt=0, le=1.0)
    # The process's log lines: "text" for people, "json" (one object a line) for a log collector.
    format: Literal["text", "json"] = "text"


class Settings(_Section):
    wechat: WeChatSettings
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    sandbox: SandboxSettings = SandboxSettings()
    replies: RepliesSettings = RepliesSettings()
    keywords: list[KeywordSeed] = []
    menu: MenuSettings = MenuSettings()
    sources: list[SourceSettings] = []
    content: ContentSettings = ContentSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    editors: EditorsSettings = EditorsSettings()
    members: MembersSettings = MembersSettings()
    console: ConsoleSettings = ConsoleSettings()
    log: LogSettings = LogSettings()
    # Directory of the config file: relative paths in the settings are resolved against it.
    base_dir: Path = Path(".")

    def path(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path resolved against the config's folder."""
        url = self.database.url
        prefix = "sqlite+aiosqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix):]).resolve())
        return url

    @property
    def webhook_url(self) -> str:
        if self.sandbox.webhook_url:
            return self.sandbox.webhook_url
        base = self.server.public_url or f"http://{self.server.host}:{self.server.port}"
        return base.rstrip("/") + self.server.webhook_path


    @property
    def console_url(self) -> str:
        if self.console.public_url:
            return self.console.public_url.rstrip("/") + "/"
        host, port = ((self.console.host, self.console.port) if self.console.port
                      else (self.server.host, self.server.port))
        return f"http://{host}:{port}{self.console.path}/"


def _describe(err: dict) -> str:
    loc = [str(p) for p in err["loc"]]
    # "wechat.appid" reads as "[wechat] appid", the way the key is written in the file.
    key = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else loc[0] if loc else texts.TOP_LEVEL
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "value_error":  # our own validators: their message is already the expectation
        said = str(ctx.get("error", err["msg"]))
    elif kind in texts.BY_TYPE:
        said = texts.BY_TYPE[kind].format(**ctx)
    else:  # a type we have no words for: pydantic's own
        said = err["msg"]
    if kind in ("missing", "extra_forbidden"):
        return f"{key}：{said}"
    # A secret's value is never echoed: the message may reach a log or a screen share.
    shown = texts.HIDDEN if loc and loc[-1] in ("secret", "token", "encoding_aes_key") else texts.GOT.format(value=repr(err.get("input")))
    return f"{key}：{said}{shown}"


def parse_settings(data: dict, base_dir: Path = Path("."), environ: dict | None = None) -> Settings:
    """Validate a config mapping; secrets in `environ` override the [wechat] table."""
    environ = os.environ if environ is None else environ
    data = dict(data)
    wechat = dict(data.get("wechat") or {})
    for key, var in ENV_SECRETS.items():
        if environ.get(var):
            wechat[key] = environ[var]
    data["wechat"] = wechat
    try:
        return Settings.model_validate({**data, "base_dir": base_dir})
    except ValidationError as e:
        lines = "\n  ".join(_describe(err) for err in e.errors())
        raise ConfigError(texts.INVALID.format(lines=lines)) from None


def load_settings(path: str | Path = "config.toml", environ: dict | None = None) -> Settings:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(texts.NOT_FOUND.format(path=path)) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(texts.NOT_TOML.format(path=path, error=e)) from None
    return parse_settings(data, base_dir=path.resolve().parent, environ=environ)
