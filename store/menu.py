"""The custom menu as editors keep it (the console's 菜单 page, `main.py menu sync`): every saved
version is kept, the newest is current, and until anyone saves one the menu is `[menu]` of
config.toml (a seed, nothing more). WeChat's limits are checked before saving and before syncing
(wechat/menu.py). `sync` is the one operation both faces call: the current menu to the account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from core.config import MenuSettings
from store import audit
from store.models.menu import CustomMenu
from wechat.menu import build_menu

if TYPE_CHECKING:
    from core.services import Services


@dataclass(frozen=True)
class CurrentMenu:
    menu: MenuSettings
    saved: CustomMenu | None  # None: nobody has saved one, it is `[menu]` of config.toml

    @property
    def synced_at(self) -> datetime | None:
        return self.saved.synced_at if self.saved else None


async def current(services: Services) -> CurrentMenu:
    async with services.db() as session:
        saved = await session.scalar(select(CustomMenu).order_by(CustomMenu.id.desc()).limit(1))
    if saved is None:
        return CurrentMenu(services.settings.menu, None)
    return CurrentMenu(MenuSettings.model_validate(saved.body), saved)


async def save(services: Services, menu: MenuSettings, by: str) -> CustomMenu:
    """Keep `menu` (already checked) as the current version."""
    row = CustomMenu(body=menu.model_dump(exclude_defaults=True), saved_by=by[:64], saved_at=services.clock.now())
    async with services.db.begin() as session:
        session.add(row)
    return row


async def mark_synced(services: Services, menu_id: int) -> None:
    async with services.db.begin() as session:
        await session.execute(update(CustomMenu).where(CustomMenu.id == menu_id).values(synced_at=services.clock.now()))


@dataclass(frozen=True)
class Synced:
    saved: CustomMenu  # the version now on the account
    body: dict  # what menu/create was sent


async def sync(services: Services, actor: audit.Actor) -> Synced:
    """Make the current menu the account's (menu/create). MenuError before any call when it breaks a
    limit, WeChatError when WeChat refuses it; either way nothing is recorded. The config's menu,
    once synced, becomes the first saved version, so what the account shows is always a version."""
    current_menu = await current(services)
    body = build_menu(current_menu.menu)
    await services.api.menu_create(body)
    row = current_menu.saved or await save(services, current_menu.menu, actor.name)
    await mark_synced(services, row.id)
    await audit.record(services.db, services.clock, actor, "menu_sync", target_type="menu", target_id=row.id,
                       after=body)
    return Synced(row, body)
