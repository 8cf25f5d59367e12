"""The account's own things: follower tags (`tags/get`), the custom menu (`menu/create|get|delete`) and
the follower list and profiles (`user/get`, `user/info`). Rules from 创建自定义菜单
(https://developers.weixin.qq.com/doc/service/api/custommenu/api_createcustommenu), 获取关注用户列表
(https://developers.weixin.qq.com/doc/service/api/usermanage/userinfo/api_getfans) and 获取用户基本信息
(https://developers.weixin.qq.com/doc/service/api/usermanage/userinfo/api_userinfo)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from sandbox.platform.errors import WxError
from sandbox.platform.limits import MENU_TYPES

if TYPE_CHECKING:
    from sandbox.platform.core import Platform


def tags_get(p: Platform, query: dict, body: dict, files: dict) -> dict:
    counts: dict[int, int] = {}
    for f in p.state["followers"].values():
        for t in f["tags"] if f["subscribed"] else ():
            counts[t] = counts.get(t, 0) + 1
    return {"tags": [{"id": int(i), "name": n, "count": counts.get(int(i), 0)}
                     for i, n in sorted(p.state["tags"].items(), key=lambda kv: int(kv[0]))]}


def menu_create(p: Platform, query: dict, body: dict, files: dict) -> dict:
    validate_menu(body)
    p.state["menu"] = {"button": body["button"]}
    return {}


def menu_get(p: Platform, query: dict, body: dict, files: dict) -> dict:
    if not p.state["menu"]:
        raise WxError(46003)
    return {"menu": copy.deepcopy(p.state["menu"])}


def menu_delete(p: Platform, query: dict, body: dict, files: dict) -> dict:
    p.state["menu"] = None
    return {}


def validate_menu(body: Any) -> None:
    """WeChat's menu limits: 1–3 buttons, 1–5 sub-buttons, name ≤ 16 bytes (sub ≤ 60), key ≤ 128 bytes,
    url ≤ 1024 bytes; each violation with its own code (40016…40027)."""
    buttons = body.get("button") if isinstance(body, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise WxError(40016)
    for button in buttons:
        if not isinstance(button, dict):
            raise WxError(47001)
        if len((button.get("name") or "").encode("utf-8")) > 16 or not button.get("name"):
            raise WxError(40018)
        subs = button.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                raise WxError(40023)
            for sub in subs:
                if not isinstance(sub, dict) or not sub.get("name") or \
                        len(sub["name"].encode("utf-8")) > 60:
                    raise WxError(40025)
                _check_leaf(sub, sub=True)
        elif "sub_button" in button and not button.get("type"):
            raise WxError(40023)  # an empty sub-menu
        else:
            _check_leaf(button, sub=False)


def _check_leaf(button: dict, sub: bool) -> None:
    btype = button.get("type")
    if btype not in MENU_TYPES:
        raise WxError(40024 if sub else 40017)
    key = button.get("key") or ""
    url = button.get("url") or ""
    if (btype in ("click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
                  "pic_weixin", "location_select") and not key) or len(key.encode("utf-8")) > 128:
        raise WxError(40026 if sub else 40019)
    if (btype in ("view", "miniprogram") and not url) or len(url.encode("utf-8")) > 1024:
        raise WxError(40027 if sub else 40020)


def user_get(p: Platform, query: dict, body: dict, files: dict) -> dict:
    followers = sorted((f for f in p.state["followers"].values() if f["subscribed"]),
                       key=lambda f: (f["subscribe_time"] or 0, f["openid"]))
    openids = [f["openid"] for f in followers]
    start = 0
    if query.get("next_openid"):
        try:
            start = openids.index(query["next_openid"]) + 1
        except ValueError:
            raise WxError(40003) from None
    page = openids[start: start + 10_000]
    # Empty next_openid = the end (as 获取关注用户列表 reads; the real API may instead repeat the last openid
    # and answer count 0 on the next call — clients should stop on either).
    more = start + len(page) < len(openids)
    result: dict[str, Any] = {"total": len(openids), "count": len(page),
                              "next_openid": page[-1] if more else ""}
    if page:
        result["data"] = {"openid": page}
    return result


def user_info(p: Platform, query: dict, body: dict, files: dict) -> dict:
    f = p.follower(query.get("openid") or "")
    if f is None:
        raise WxError(40003)
    if not f["subscribed"]:
        return {"subscribe": 0, "openid": f["openid"]}
    return {"subscribe": 1, "openid": f["openid"], "subscribe_time": int(f["subscribe_time"] or 0),
            "remark": "", "groupid": 0, "tagid_list": f["tags"],
            "subscribe_scene": "ADD_SCENE_OTHERS", "qr_scene": 0, "qr_scene_str": ""}


ENDPOINTS = {
    "tags/get": tags_get,
    "menu/create": menu_create,
    "menu/get": menu_get,
    "menu/delete": menu_delete,
    "user/get": user_get,
    "user/info": user_info,
}
