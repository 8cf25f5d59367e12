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
    }
    return DemoLoad("loaded", found, added)
