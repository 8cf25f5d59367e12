"""Demo data for trying the bot (`main.py demo load`, run by every `make run`): only into an empty
database, so it can never overwrite anything real.

"Empty" means no member units, articles, pushes, followers or editors' own keyword rules (rules
seeded from `[[keywords]]` are the config's, not data). A database that already holds the whole demo
is left alone; one that holds anything else gets nothing: a unit the secretariat imported keeps its
real grade even if its code is the demo's. To try the demo beside real data, point a second config's
`[database] url` at another file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.content import demo as content_demo
from store.members import demo as members_demo
from store.models.content import Article
from store.models.members import Member
from store.models.pushes import Push
from store.models.webhook import Follower, KeywordRule

if TYPE_CHECKING:
    from core.services import Services

# What counts as data, by the name the report uses.
HOLDINGS = {
    "members": select(func.count()).select_from(Member),
    "articles": select(func.count()).select_from(Article),
    "pushes": select(func.count()).select_from(Push),
    "followers": select(func.count()).select_from(Follower),
    "keyword_rules": select(func.count())
    .select_from(KeywordRule)
    .where(KeywordRule.seed_key.is_(None), KeywordRule.deleted.is_(False)),
}


@dataclass(frozen=True)
class DemoLoad:
    """loaded: the database was empty and now holds the demo; present: the demo is there already,
    nothing changed; refused: the database holds other data, nothing loaded."""

    outcome: Literal["loaded", "present", "refused"]
    found: dict[str, int] = field(default_factory=dict)  # what the database held before, non-zero only
    added: dict[str, int] = field(default_factory=dict)


async def holdings(session: AsyncSession) -> dict[str, int]:
    """How many rows of each kind of data the database holds (kinds with none left out)."""
    counts = {name: await session.scalar(query) or 0 for name, query in HOLDINGS.items()}
    return {name: n for name, n in counts.items() if n}


async def load_demo(services: Services) -> DemoLoad:
    async with services.db() as session:
        found = await holdings(session)
        complete = await members_demo.demo_complete(session) and await content_demo.demo_complete(session)
    if found:
        return DemoLoad("present" if complete else "refused", found)
    added = {
        "members": await members_demo.load_demo(services),
        "articles": await content_demo.load_demo(services),
        "editors": await load_demo_editors(services),
    }
    return DemoLoad("loaded", found, added)


# The console's demo accounts: in the demo database only (never a default of a real config), their
# passwords printed by `demo load` on the terminal, never logged. The editor's openid is the demo
# config's `[editors] openids`, so 发送预览到微信 reaches the local platform's demo editor.
DEMO_EDITORS = [
    ("demo_editor", "editor", "演示编辑", "bianji-demo-2026", "o_editor_demo_0001"),
    ("demo_approver", "approver", "演示审批人", "shenpi-demo-2026", None),
    ("demo_admin", "admin", "演示管理员", "guanli-demo-2026", None),
]


async def load_demo_editors(services: Services) -> int:
    from store import editors

    n = 0
    for name, role, display, password, openid in DEMO_EDITORS:
        if await editors.get(services.db, name) is None:
            await editors.add(services.db, services.clock, name, role, password, display_name=display, openid=openid)
            n += 1
    return n


async def demo_editors_present(services: Services) -> list[tuple[str, str, str]]:
    """(name, role, password) of the demo accounts this database holds, for the terminal."""
    from store import editors

    return [(name, role, password) for name, role, _d, password, _o in DEMO_EDITORS
            if await editors.get(services.db, name) is not None]
