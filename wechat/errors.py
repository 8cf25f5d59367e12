"""WeChat API errors as types callers can act on, one class per way of handling them (the codes: 全局返回码说明,
https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html, and each
API's own page). `error_for(code, msg)` picks the class."""

from __future__ import annotations


class WeChatError(Exception):
    """A WeChat API call failed. `code` is WeChat's errcode (None for transport failures)."""

    def __init__(self, code: int | None, message: str = "", endpoint: str = "") -> None:
        self.code = code
        self.message = message
        self.endpoint = endpoint
        super().__init__(f"{endpoint}: errcode {code}: {message}" if endpoint else f"{code}: {message}")


class TransientError(WeChatError):
    """-1 (system busy), 45011 (minute quota) or a network failure: safe to retry an idempotent call."""


class OutcomeUnknown(TransientError):
    """A send that must not be repeated blindly got no usable answer (timeout, dropped connection, a
    non-JSON reply or -1): it may or may not have happened. The caller must reconcile before retrying."""


class TokenInvalid(WeChatError):
    """40001/40014/42001: the token was refused; refreshed once by the client."""


class FatalCredentials(WeChatError):
    """Wrong appid/secret, secret frozen, or this IP is not whitelisted: stop, tell the operator."""


class QuotaExceeded(WeChatError):
    """45009 (daily API quota) or 45028 (no mass-send quota): wait for the quota to reset."""


class WindowClosed(WeChatError):
    """45015/45047/43004/43019/40003: the follower cannot be messaged now; drop or defer."""


class ContentRejected(WeChatError):
    """45002/45008/40007/40005/40009/47001/53503…: the payload must change before a retry."""


class PermissionDenied(WeChatError):
    """48001/48004/45103: this account may not use the API."""


class DuplicateClientMsgId(WeChatError):
    """45065: a mass send with this clientmsgid exists already; `msg_id` holds the first one."""

    def __init__(self, code, message="", endpoint="", msg_id: int | None = None) -> None:
        super().__init__(code, message, endpoint)
        self.msg_id = msg_id


class SendTooFast(WeChatError):
    """45066: the same clientmsgid again too soon; wait a minute."""


TRANSIENT = {-1, 45011}
TOKEN = {40001, 40014, 42001}
FATAL = {40013, 40125, 40243, 40164, 61004}
QUOTA = {45009, 45028}
WINDOW = {45015, 45047, 43004, 43019, 40003}
PERMISSION = {48001, 48004, 45103}
CONTENT = {40005, 40007, 40009, 45002, 45008, 45067, 47001, 53503, 53504, 53505, 40016, 40017,
           40018, 40019, 40020, 40023, 40024, 40025, 40026, 40027}


def error_for(code: int, message: str = "", endpoint: str = "", **extra) -> WeChatError:
    if code == 45065:
        return DuplicateClientMsgId(code, message, endpoint, msg_id=extra.get("msg_id"))
    if code == 45066:
        return SendTooFast(code, message, endpoint)
    for codes, cls in (
        (TRANSIENT, TransientError),
        (TOKEN, TokenInvalid),
        (FATAL, FatalCredentials),
        (QUOTA, QuotaExceeded),
        (WINDOW, WindowClosed),
        (PERMISSION, PermissionDenied),
        (CONTENT, ContentRejected),
    ):
        if code in codes:
            return cls(code, message, endpoint)
    return WeChatError(code, message, endpoint)
