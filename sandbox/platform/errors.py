"""How the local platform refuses: `WxError(code)` carries WeChat's errcode and its errmsg, which
`Platform.call` answers as `{"errcode": N, "errmsg": "... rid: ..."}`. The codes are those of 全局返回码说明
(https://developers.weixin.qq.com/doc/oplatform/Return_codes/Return_code_descriptions_new.html); each
errmsg is WeChat's own wording for it, as its API pages and real answers show it."""

from __future__ import annotations

from typing import Any

ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40005: "invalid file type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40035: "invalid args",
    40066: "invalid url",
    40125: "invalid appsecret",
    40130: "invalid openid list size, at least two openid",
    40164: "invalid ip 127.0.0.1, not in whitelist",
    41001: "access_token missing",
    41005: "media data missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44003: "empty news data",
    44004: "empty content",
    45002: "content size out of limit",
    45003: "title size out of limit",
    45004: "description size out of limit",
    45005: "link size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    45015: "response out of time limit or subscription is canceled",
    45028: "has no masssend quota",
    45047: "out of response count limit",
    45065: "clientmsgid exist",
    45066: "same clientmsgid retry too fast",
    45067: "clientmsgid size out of limit",
    45110: "author size out of limit",
    45159: "invalid tag",
    46003: "menu no exist",
    47001: "data format error",
    48001: "api unauthorized",
    61500: "date format error",
    61501: "date range error",
    61503: "data not ready",
}


class WxError(Exception):
    """A refusal: WeChat's errcode, its errmsg, and extra fields for the body (45065's msg_id)."""

    def __init__(self, code: int, msg: str | None = None, **extra: Any) -> None:
        self.code = code
        self.msg = msg or ERRMSG.get(code, "error")
        self.extra = extra
        super().__init__(f"{code}: {self.msg}")
