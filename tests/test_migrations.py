"""Migrations: one linear history, up to head on SQLite and PostgreSQL, and a migrated schema that is
exactly what the models declare (alembic's autogenerate comparison finds nothing to add or change)."""

from __future__ import annotations

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

import store.models  # noqa: F401 - registers every table on Base.metadata
from store.db import Base, make_engine
from store.migrate import MIGRATIONS, alembic_config, heads, upgrade


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(""))


def test_one_linear_history():
    script = _script()
    assert len(heads()) == 1, f"several heads: {heads()} (rebase onto the previous revision, do not fork)"
    # Walk from the base up: every revision has exactly one parent (the one before it) and one child.
    chain = list(reversed(list(script.walk_revisions())))
    assert chain[0].revision == "0001_foundation" and chain[0].down_revision is None
    for prev, rev in zip(chain, chain[1:], strict=False):
        assert rev.down_revision == prev.revision, f"{rev.revision} should follow {prev.revision}"
        assert not rev.branch_labels and not rev.dependencies
    numbers = [int(r.revision.split("_", 1)[0]) for r in chain]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_revision_ids_match_file_names():
    for rev in _script().walk_revisions():
        path = MIGRATIONS / "versions" / f"{rev.revision}.py"
        assert path.exists(), f"revision {rev.revision} should live in {path.name}"
        assert re.fullmatch(r"\d{4}_[a-z][a-z0-9_]*", rev.revision)


def _diff(connection) -> list:
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(ctx, Base.metadata)


async def test_upgrade_to_head_matches_the_models(db_url):
    await upgrade(db_url)
    await upgrade(db_url)  # a second run is a no-op
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            assert version == heads()
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == [], "models and migrations disagree:\n" + "\n".join(map(repr, diff))
