"""`cgi-bin/token` and `cgi-bin/stable_token`: issuing access tokens, replacing them with 5 minutes of
overlap, forced refreshes, the credential and IP-whitelist checks, and the check of the token every
other endpoint is called with (`Platform.call` makes it). Rules from 获取 Access token
(https://developers.weixin.qq.com/doc/service/en/Basic_Information/Get_access_token.html) and
获取稳定版接口调用凭据 (https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sandbox.platform.errors import WxError
from sandbox.platform.limits import FORCE_REFRESH_MIN_GAP, FORCE_REFRESH_PER_DAY, TOKEN_OVERLAP, TOKEN_TTL

if TYPE_CHECKING:
    from sandbox.platform.core import Platform


def new_token(p: Platform, kind: str) -> str:
    token = secrets.token_urlsafe(96)  # WeChat says reserve ≥ 512 chars; real ones are ~140
    now = p.now()
    p.state["tokens"][token] = {"kind": kind, "issued_at": now, "expires_at": now + TOKEN_TTL,
                                "revoked_at": None}
    # Forget tokens dead for a day, so the state does not grow without bound.
    dead = [t for t, v in p.state["tokens"].items() if token_end(v) < now - 86400]
    for t in dead:
        del p.state["tokens"][t]
    return token


def token_end(info: dict) -> float:
    end = info["expires_at"]
    return min(end, info["revoked_at"]) if info["revoked_at"] is not None else end


def check_token(p: Platform, token: str | None) -> None:
    if not token:
        raise WxError(41001)
    info = p.state["tokens"].get(token)
    now = p.now()
    if info is None:
        raise WxError(40001)
    if info["revoked_at"] is not None and now >= info["revoked_at"] and info["revoked_at"] < info["expires_at"]:
        raise WxError(40001)  # replaced: "not latest"
    if now >= info["expires_at"]:
        raise WxError(42001)


def _check_credentials(p: Platform, appid: str | None, secret: str | None) -> None:
    if not p.state["whitelisted"]:
        raise WxError(40164)
    if appid != p.wechat.appid:
        raise WxError(40013)
    # A wrong secret: 40125 on both endpoints (cgi-bin/token has also been seen answering 40001;
    # 40125 is the one that says what is wrong, and the client treats both as fatal at fetch time).
    if secret != p.wechat.secret:
        raise WxError(40125)


def token(p: Platform, query: dict, body: dict, files: dict) -> dict:
    if query.get("grant_type") != "client_credential":
        raise WxError(40002)
    _check_credentials(p, query.get("appid"), query.get("secret"))
    # Each call replaces the previous token, which stays valid 5 more minutes.
    old = p.state["current"]["token"]
    now = p.now()
    if old in p.state["tokens"]:
        info = p.state["tokens"][old]
        info["revoked_at"] = min(token_end(info), now + TOKEN_OVERLAP)
    issued = new_token(p, "token")
    p.state["current"]["token"] = issued
    return {"access_token": issued, "expires_in": TOKEN_TTL}


def stable_token(p: Platform, query: dict, body: dict, files: dict) -> dict:
    if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
        raise WxError(40002)
    _check_credentials(p, body.get("appid"), body.get("secret"))
    now = p.now()
    current = p.state["current"]["stable"]
    info = p.state["tokens"].get(current) if current else None
    if body.get("force_refresh"):
        fr = p.state["force_refresh"]
        if fr["day"] != p.day():
            fr.update(day=p.day(), count=0)
        if fr["count"] >= FORCE_REFRESH_PER_DAY:
            raise WxError(45009)
        if fr["last"] and now - fr["last"] < FORCE_REFRESH_MIN_GAP:
            raise WxError(45011)
        fr["count"] += 1
        fr["last"] = now
        if info is not None:
            info["revoked_at"] = min(token_end(info), now + TOKEN_OVERLAP)
        info = None
    elif info is not None:
        remaining = token_end(info) - now
        if remaining > TOKEN_OVERLAP:
            return {"access_token": current, "expires_in": int(remaining)}
        # Last 5 minutes: WeChat pre-rotates; the old token lives out its remaining time.
    issued = new_token(p, "stable")
    p.state["current"]["stable"] = issued
    return {"access_token": issued, "expires_in": TOKEN_TTL}


ENDPOINTS = {"token": token, "stable_token": stable_token}
