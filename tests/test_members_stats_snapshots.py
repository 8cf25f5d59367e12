"""The registry figures' shared snapshots (store/members/snapshots.py): computed once per registry
version and day for every process, read back exactly as computed, never served after the registry
changed, older versions' rows dropped."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select

from store.members import snapshots
from store.members.stats import (
    DEFAULT_MONTHS,
    PAGE_TOP,
    FiguresCache,
    figures_for_new_registry,
    public_figures,
)
from store.models.members import FigureSnapshot
from tests.test_members_stats import ROLES, TODAY, Units, _figures, _load, seed_registry


async def _rows(env) -> list[int]:
    async with env.db() as s:
        return list(await s.scalars(select(FigureSnapshot.version).order_by(FigureSnapshot.version)))


async def test_a_second_process_reads_the_snapshot_and_an_import_makes_a_new_one(members_env, monkeypatch):
    await _load(members_env, seed_registry())
    first = await _figures(members_env, cache=FiguresCache(), list_expiring=True, top=None)
    assert len(await _rows(members_env)) == 1
    fresh = await _figures(members_env, list_expiring=True, top=None)  # no cache: computed afresh
    calls = []
    monkeypatch.setattr("store.members.stats._cube", lambda *a: calls.append(a) or (_ for _ in ()).throw(
        AssertionError("computed again")))
    other = await _figures(members_env, cache=FiguresCache(), list_expiring=True, top=None)  # another process
    assert other is not first and asdict(other) == asdict(first) == asdict(fresh) and not calls
    monkeypatch.undo()
    version = (await _rows(members_env))[0]
    await _load(members_env, [Units()("新来的协会", grade="5A")])  # an import bumps the version
    after = await _figures(members_env, cache=FiguresCache(), list_expiring=True, top=None)
    assert asdict(after) == asdict(await _figures(members_env, list_expiring=True, top=None)) != asdict(first)
    assert await _rows(members_env) == [version + 1]  # the old version's snapshot is gone


async def test_the_snapshot_key_holds_version_and_options():
    a = snapshots.key_of(3, (3, "2026-01-05", "Asia/Shanghai", (), 12, 10, False))
    assert a.startswith("3:") and len(a) <= 200
    assert a != snapshots.key_of(3, (3, "2026-01-05", "Asia/Shanghai", (), 12, 0, False))


async def test_after_an_import_followers_and_the_console_page_read_stored_figures(members_env, monkeypatch):
    """figures_for_new_registry (both faces call it after an import): the follower's 统计 and the
    console's 会员统计 page, in another process, compute nothing."""
    await _load(members_env, seed_registry())
    await figures_for_new_registry(members_env.db, TODAY, timezone="Asia/Shanghai", roles=ROLES, cache=FiguresCache())
    assert len(await _rows(members_env)) == 2
    monkeypatch.setattr("store.members.stats._cube", lambda *a: (_ for _ in ()).throw(AssertionError("computed")))
    page = await _figures(members_env, cache=FiguresCache(), months=DEFAULT_MONTHS, top=PAGE_TOP, list_expiring=True)
    public = await public_figures(members_env.db, TODAY, timezone="Asia/Shanghai", roles=ROLES, cache=FiguresCache())
    assert len(page.ranking) == PAGE_TOP and public.ranking == [] and page.total == public.total
    assert page.total.eligible == 435 and page.expiring_units is not None
