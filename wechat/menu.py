"""The custom menu: `[menu]` of config.toml checked against WeChat's limits (wechat/limits.py) and
turned into the `menu/create` JSON. Checking here, before the call, names the faulty button; WeChat
would only answer an errcode such as 40018 for the whole menu."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from core.config import MenuButton, MenuSettings
from wechat.limits import (
    MENU_KEY_BYTES,
    MENU_SUB_BUTTONS,
    MENU_SUB_NAME_BYTES,
    MENU_TOP_BUTTONS,
    MENU_TOP_NAME_BYTES,
    MENU_URL_BYTES,
)

if TYPE_CHECKING:
    from wechat.api import WeChatAPI

# Which field each button type needs besides its name (the same page).
KEY_TYPES = {
    "click",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
}
REQUIRED = {
    **{t: ("key",) for t in KEY_TYPES},
    "view": ("url",),
    "miniprogram": ("url", "appid", "pagepath"),
    "media_id": ("media_id",),
    "view_limited": ("media_id",),
    "article_id": ("article_id",),
    "article_view_limited": ("article_id",),
}
FIELDS = ("key", "url", "appid", "pagepath", "media_id", "article_id")

# --- what the editor reads (`main.py menu sync`) ---------------------------------------------------------
INVALID = "[menu] 不符合微信的规定："
BUTTON = "第 {path} 个菜单“{name}”"
UNKNOWN_TYPE = "{label}：未知的类型 {kind!r}（可选：{choices}）"
NEEDS = "{label}：{kind} 类型的菜单需要 {field}"
KEY_TOO_LONG = "{label}：key 有 {n} 字节，最多 {max} 字节"
URL_TOO_LONG = "{label}：url 有 {n} 字节，最多 {max} 字节"
URL_SCHEME = "{label}：url 必须以 http:// 或 https:// 开头"
NO_BUTTONS = "没有菜单：[menu] 需要 1 到 3 个 [[menu.button]]"
TOO_MANY_TOP = "一级菜单有 {n} 个，最多 {max} 个"
TOP_NAME_TOO_LONG = "{label}：名称有 {n} 字节，最多 {max} 字节（约 5 个汉字）"
PARENT_ACTS = "{label}：有子菜单的菜单不能再设 type/key/url"
TOO_MANY_SUB = "{label}：子菜单有 {n} 个，最多 {max} 个"
SUB_NAME_TOO_LONG = "{label}：名称有 {n} 字节，最多 {max} 字节"
SUB_OF_SUB = "{label}：子菜单不能再有子菜单"
NOT_A_MENU = "菜单的格式不对：{where} {error}"
EMPTY_NAME = "第 {path} 个菜单没有名称"
# ----------------------------------------------------------------------------------------------------------


class MenuError(ValueError):
    """The menu breaks one or more of WeChat's rules; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(INVALID + "\n  " + "\n  ".join(problems))


def name_bytes(s: str) -> int:
    """A name's length as WeChat counts it: UTF-8 bytes (a Chinese character is 3)."""
    return len(s.encode("utf-8"))


def _nbytes(s: str) -> int:
    return len(s.encode("utf-8"))


def _label(path: str, button: MenuButton) -> str:
    return BUTTON.format(path=path, name=button.name)


def _check_leaf(label: str, button: MenuButton, problems: list[str]) -> dict:
    kind = button.type
    if kind not in REQUIRED:
        problems.append(UNKNOWN_TYPE.format(label=label, kind=kind, choices=", ".join(sorted(REQUIRED))))
        return {}
    out: dict = {"type": kind, "name": button.name}
    for name in REQUIRED[kind]:
        if not getattr(button, name):
            problems.append(NEEDS.format(label=label, kind=kind, field=name))
    if button.key and _nbytes(button.key) > MENU_KEY_BYTES:
        problems.append(KEY_TOO_LONG.format(label=label, n=_nbytes(button.key), max=MENU_KEY_BYTES))
    if button.url:
        if _nbytes(button.url) > MENU_URL_BYTES:
            problems.append(URL_TOO_LONG.format(label=label, n=_nbytes(button.url), max=MENU_URL_BYTES))
        if not button.url.startswith(("http://", "https://")):
            problems.append(URL_SCHEME.format(label=label))
    # Only the fields this type uses go to WeChat: a stray key on a view button is noise, not an error.
    for name in FIELDS:
        if name in REQUIRED[kind] and getattr(button, name):
            out[name] = getattr(button, name)
    return out


def build_menu(menu: MenuSettings) -> dict:
    """The `menu/create` body for `[menu]`, or MenuError naming every button that breaks a limit."""
    problems: list[str] = []
    buttons = menu.button
    if not buttons:
        problems.append(NO_BUTTONS)
    elif len(buttons) > MENU_TOP_BUTTONS:
        problems.append(TOO_MANY_TOP.format(n=len(buttons), max=MENU_TOP_BUTTONS))
    out = []
    for i, top in enumerate(buttons, 1):
        label = _label(f"{i}", top)
        if _nbytes(top.name) > MENU_TOP_NAME_BYTES:
            problems.append(TOP_NAME_TOO_LONG.format(label=label, n=_nbytes(top.name), max=MENU_TOP_NAME_BYTES))
        if not top.sub_button:
            out.append(_check_leaf(label, top, problems))
            continue
        # A parent has only a name and its sub-buttons; an explicit type means the author expected
        # the top button itself to act, which WeChat ignores, so say so.
        if "type" in top.model_fields_set or any(getattr(top, f) for f in FIELDS):
            problems.append(PARENT_ACTS.format(label=label))
        if len(top.sub_button) > MENU_SUB_BUTTONS:
            problems.append(TOO_MANY_SUB.format(label=label, n=len(top.sub_button), max=MENU_SUB_BUTTONS))
        subs = []
        for j, sub in enumerate(top.sub_button, 1):
            sub_label = _label(f"{i}.{j}", sub)
            if _nbytes(sub.name) > MENU_SUB_NAME_BYTES:
                problems.append(SUB_NAME_TOO_LONG.format(label=sub_label, n=_nbytes(sub.name), max=MENU_SUB_NAME_BYTES))
            if sub.sub_button:
                problems.append(SUB_OF_SUB.format(label=sub_label))
            subs.append(_check_leaf(sub_label, sub, problems))
        out.append({"name": top.name, "sub_button": subs})
    if problems:
        raise MenuError(problems)
    return {"button": out}


def parse_menu(data: Any) -> MenuSettings:
    """A menu given as data (`{"button": [...]}`, the console's form) as settings, or MenuError
    saying what is malformed; its limits are `build_menu`'s to check."""
    if isinstance(data, dict):
        for i, top in enumerate(data.get("button") or [], 1):
            for j, sub in enumerate([top, *((top or {}).get("sub_button") or [])]):
                if isinstance(sub, dict) and not str(sub.get("name") or "").strip():
                    raise MenuError([EMPTY_NAME.format(path=f"{i}.{j}" if j else f"{i}")])
    try:
        return MenuSettings.model_validate(data)
    except ValidationError as e:
        raise MenuError([NOT_A_MENU.format(where=".".join(map(str, err["loc"])), error=err["msg"])
                         for err in e.errors()]) from None


def check(menu: MenuSettings) -> list[str]:
    """Every limit the menu breaks (empty: WeChat will take it)."""
    try:
        build_menu(menu)
    except MenuError as e:
        return e.problems
    return []


async def sync(api: WeChatAPI, menu: MenuSettings) -> dict:
    """Check the menu and make it the account's (menu/create); returns the body sent. MenuError
    before any call when it breaks a limit; WeChatError when WeChat refuses it."""
    body = build_menu(menu)
    await api.menu_create(body)
    return body
