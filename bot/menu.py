"""The custom menu: `[menu]` of config.toml checked against WeChat's limits and turned into the
`menu/create` JSON (wechat-api.md §7). Checking here, before the call, names the faulty button;
WeChat would only answer an errcode such as 40018 for the whole menu."""

from __future__ import annotations

from bot.config import MenuButton, MenuSettings

MAX_TOP = 3
MAX_SUB = 5
MAX_TOP_NAME_BYTES = 16
# Older docs said 40; the current page says 60 (wechat-api.md §7). We allow 60: WeChat is the judge.
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024

# Which field each button type needs besides its name (D-menu).
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


class MenuError(ValueError):
    """The menu breaks one or more of WeChat's rules; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid [menu]:\n  " + "\n  ".join(problems))


def _nbytes(s: str) -> int:
    return len(s.encode("utf-8"))


def _label(path: str, button: MenuButton) -> str:
    return f"{path} “{button.name}”"


def _check_leaf(label: str, button: MenuButton, problems: list[str]) -> dict:
    kind = button.type
    if kind not in REQUIRED:
        problems.append(f"{label}: unknown type {kind!r} (one of: {', '.join(sorted(REQUIRED))})")
        return {}
    out: dict = {"type": kind, "name": button.name}
    for name in REQUIRED[kind]:
        if not getattr(button, name):
            problems.append(f"{label}: a {kind} button needs {name}")
    if button.key and _nbytes(button.key) > MAX_KEY_BYTES:
        problems.append(f"{label}: key is {_nbytes(button.key)} bytes, at most {MAX_KEY_BYTES}")
    if button.url:
        if _nbytes(button.url) > MAX_URL_BYTES:
            problems.append(f"{label}: url is {_nbytes(button.url)} bytes, at most {MAX_URL_BYTES}")
        if not button.url.startswith(("http://", "https://")):
            problems.append(f"{label}: url must start with http:// or https://")
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
        problems.append("no buttons: [menu] needs 1 to 3 [[menu.button]] entries")
    elif len(buttons) > MAX_TOP:
        problems.append(f"{len(buttons)} top-level buttons, at most {MAX_TOP}")
    out = []
    for i, top in enumerate(buttons, 1):
        label = _label(f"button {i}", top)
        if _nbytes(top.name) > MAX_TOP_NAME_BYTES:
            problems.append(
                f"{label}: name is {_nbytes(top.name)} bytes, at most {MAX_TOP_NAME_BYTES} "
                "(about 5 Chinese characters)"
            )
        if not top.sub_button:
            out.append(_check_leaf(label, top, problems))
            continue
        # A parent has only a name and its sub-buttons; an explicit type means the author expected
        # the top button itself to act, which WeChat ignores, so say so.
        if "type" in top.model_fields_set or any(getattr(top, f) for f in FIELDS):
            problems.append(f"{label}: a button with sub_button cannot have its own type/key/url")
        if len(top.sub_button) > MAX_SUB:
            problems.append(f"{label}: {len(top.sub_button)} sub-buttons, at most {MAX_SUB}")
        subs = []
        for j, sub in enumerate(top.sub_button, 1):
            sub_label = _label(f"button {i}.{j}", sub)
            if _nbytes(sub.name) > MAX_SUB_NAME_BYTES:
                problems.append(
                    f"{sub_label}: name is {_nbytes(sub.name)} bytes, at most {MAX_SUB_NAME_BYTES}"
                )
            if sub.sub_button:
                problems.append(f"{sub_label}: sub-buttons cannot have sub-buttons of their own")
            subs.append(_check_leaf(sub_label, sub, problems))
        out.append({"name": top.name, "sub_button": subs})
    if problems:
        raise MenuError(problems)
    return {"button": out}
