"""The custom menu as editors keep it (the console's 菜单 page, `main.py menu sync`): every saved
version is kept, the newest is current, and until anyone saves one the menu is `[menu]` of
config.toml. WeChat's limits are checked before saving and before syncing (wechat/menu.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from core.config import MenuSettings
from store.models.menu import CustomMenu

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
