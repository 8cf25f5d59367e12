"""菜单 (admins): the custom menu edited as a grid of 3 buttons × 5 sub-buttons, WeChat's limits checked
(names in UTF-8 bytes as WeChat counts them: live in the page by console/static/editing.js, and by
wechat/menu.py on saving), a phone-like preview, and the sync to the account (menu/create). The
menu is kept in versions (store/menu.py); until one is saved it is `[menu]` of config.toml."""

from __future__ import annotations

from aiohttp import web

from console import words
from console.web import ROUTERS, actor, audit, editor, form, page, redirect, render, services
from core.config import MenuButton, MenuSettings
from store import menu as menus
from wechat.errors import WeChatError
from wechat.limits import MENU_SUB_BUTTONS, MENU_SUB_NAME_BYTES, MENU_TOP_BUTTONS, MENU_TOP_NAME_BYTES
from wechat.menu import KEY_TYPES, MenuError, check, name_bytes, parse_menu

# Which field a button type's one value fills (a mini program also takes appid and pagepath).
VALUE_FIELD = {**dict.fromkeys(KEY_TYPES, "key"), "view": "url", "miniprogram": "url", "media_id": "media_id",
               "view_limited": "media_id", "article_id": "article_id", "article_view_limited": "article_id"}


def _slot(prefix: str, b: MenuButton | None) -> dict:
    field = VALUE_FIELD.get(b.type, "key") if b else "key"
    return {"prefix": prefix, "name": b.name if b else "", "type": b.type if b else "click",
            "value": getattr(b, field) if b else "", "appid": b.appid if b else "", "pagepath": b.pagepath if b else "",
            "bytes": name_bytes(b.name) if b else 0}


def slots(menu: MenuSettings) -> list[dict]:
    """The form's grid: every top button with its sub-buttons, empty slots included."""
    out = []
    for i in range(MENU_TOP_BUTTONS):
        top = menu.button[i] if i < len(menu.button) else None
        subs = top.sub_button if top else []
        slot = _slot(f"b{i}", top)
        slot["subs"] = [_slot(f"b{i}s{j}", subs[j] if j < len(subs) else None) for j in range(MENU_SUB_BUTTONS)]
        out.append(slot)
    return out


def _button(f: dict[str, str], prefix: str) -> dict | None:
    name = f.get(f"{prefix}_name", "").strip()
    if not name:
        return None
    kind = f.get(f"{prefix}_type", "click")
    out = {"name": name, "type": kind}
    value = f.get(f"{prefix}_value", "").strip()
    if value:
        out[VALUE_FIELD.get(kind, "key")] = value
    if kind == "miniprogram":
        out.update(appid=f.get(f"{prefix}_appid", "").strip(), pagepath=f.get(f"{prefix}_pagepath", "").strip())
    return out


def from_form(f: dict[str, str]) -> dict:
    """The posted grid as menu data: empty names are empty slots; a button with sub-buttons is a parent."""
    buttons = []
    for i in range(MENU_TOP_BUTTONS):
        subs = [s for j in range(MENU_SUB_BUTTONS) if (s := _button(f, f"b{i}s{j}"))]
        top = _button(f, f"b{i}")
        if top is None and not subs:
            continue
        if subs:
            top = {"name": top["name"] if top else "", "sub_button": subs}
        buttons.append(top)
    return {"button": buttons}


def click_keys(routers) -> dict[str, str]:
    """The CLICK keys the bot's routers answer, each with its Chinese name (the key itself if it has none)."""
    return {k: words.CLICK_KEYS.get(k, k) for r in routers for k in r.clicks}


async def _page(request: web.Request, menu: MenuSettings, problems: list[str] | None = None, status: int = 200):
    svc = services(request)
    current = await menus.current(svc)
    return await render(request, "menu.html", status=status, slots=slots(menu), menu=menu, current=current,
                        problems=problems or [], types=words.BUTTON_TYPES, top_max=MENU_TOP_NAME_BYTES,
                        sub_max=MENU_SUB_NAME_BYTES, from_config=current.saved is None,
                        keys=click_keys(request.config_dict[ROUTERS]),
                        unknown_key=words.CLICK_KEY_UNKNOWN, account=svc.settings.wechat.display_name or words.ACCOUNT)


@page("/menu", role="admin", name="menu")
async def show(request: web.Request) -> web.Response:
    return await _page(request, (await menus.current(services(request))).menu)


@page("/menu", role="admin", method="POST", name="menu_save")
async def save(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    data = from_form(await form(request))
    try:
        menu = parse_menu(data)
    except MenuError as e:
        return await _page(request, MenuSettings(), e.problems, status=400)
    problems = check(menu)
    if problems:  # answered directly, so what the editor typed stays in the form; nothing saved
        return await _page(request, menu, [words.MENU_REFUSED.format(n=len(problems)), *problems], status=400)
    before = (await menus.current(svc)).menu
    row = await menus.save(svc, menu, editor(request).name)
    await audit(request, "menu_save", target_type="menu", target_id=row.id,
                before=before.model_dump(exclude_defaults=True), after=row.body)
    raise await redirect(request, "menu", words.MENU_SAVED)


@page("/menu/sync", role="admin", method="POST", name="menu_sync")
async def push(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    try:
        await menus.sync(svc, actor(request))
    except MenuError as e:
        return await _page(request, (await menus.current(svc)).menu, e.problems, status=400)
    except WeChatError as e:
        raise await redirect(request, "menu", words.MENU_SYNC_REFUSED.format(error=e), "error") from None
    raise await redirect(request, "menu", words.MENU_SYNCED)
