"""The member operations both faces use (the CLI and the console): an uploaded table staged, its dry
run (added, updated, unchanged, rejected with lines and reasons, likely typos) and its import; the
editors' search; one unit's page (facts, grade history, bound followers); the export as a download."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store.members import binding
from store.members.find import search_units
from store.members.registry import export_table, list_units, member_page, table_bytes
from store.members.status import local_today
from store.members.table import ImportFileError
from store.members.uploads import find_staged, import_staged, stage
from store.models.members import Member
from tests.fixtures.members import HEADER, code, row, write_csv

A, B, C, D, TYPO = code(11), code(12), code(13), code(15), code(14)


def _csv_bytes(tmp_path, rows, name="up.csv") -> bytes:
    return write_csv(tmp_path / name, rows).read_bytes()


async def _run(env, token, dry_run):
    now = env.clock.now()
    today = local_today(now, env.services.settings.scheduler.timezone)
    return await import_staged(env.db, env.tmp / "uploads", token, now, today,
                               env.services.settings.members.roles, dry_run=dry_run)


async def test_an_upload_is_dry_run_then_applied_with_the_bad_row_and_the_typo_named(members_env, tmp_path):
    await members_env.import_rows([HEADER, row("浙江省青年企业家协会", A, grade="3A", grade_year="2020"),
                                   row("浙江省音乐家协会", D)], "first.csv")
    data = _csv_bytes(tmp_path, [
        HEADER,
        row("浙江省青年企业家协会", A, grade="4A", grade_year="2023"),  # line 2: updated
        row("浙江省摄影家协会", B),  # line 3: added
        row("浙江省书法家协会", C, role="名誉会长单位"),  # line 4: a bad role
        row("浙江省音乐家协会", TYPO),  # line 5: D's name under another code
    ])
    staged = stage(tmp_path / "uploads", data, "会员名录 2026.csv")
    assert staged.filename == "会员名录_2026.csv" and find_staged(tmp_path / "uploads", staged.token) == staged

    preview = await _run(members_env, staged.token, dry_run=True)
    assert preview.dry_run and preview.path == "会员名录_2026.csv"
    assert [c.credit_code for c in preview.added] == [B]
    assert [(c.credit_code, c.fields) for c in preview.updated] == [(A, {"grade": ("3A", "4A"), "grade_year": (2020, 2023)})]
    assert [r.line for r in preview.rejected] == [4, 5]
    assert "未知的会员类别“名誉会长单位”" in preview.rejected[0].reason
    assert [(t.line, t.other_code) for t in preview.likely_typos] == [(5, D)]
    assert "已有同名单位“浙江省音乐家协会”" in preview.likely_typos[0].reason
    assert {m.credit_code for m in await list_units(members_env.db)} == {A, D}  # a dry run writes nothing

    applied = await _run(members_env, staged.token, dry_run=False)
    assert not applied.dry_run and [r.line for r in applied.rejected] == [4, 5]
    async with members_env.db() as session:
        units = {m.credit_code: m for m in await session.scalars(select(Member))}
    assert set(units) == {A, B, D} and units[A].grade == "4A"


def test_staging_refuses_what_the_importer_cannot_read(tmp_path):
    with pytest.raises(ImportFileError, match="不支持的文件类型“.pdf”"):
        stage(tmp_path, b"%PDF", "名录.pdf")
    with pytest.raises(ImportFileError, match="没有任何数据"):
        stage(tmp_path, b"", "名录.csv")
    assert find_staged(tmp_path, "../etc") is None and find_staged(tmp_path, "0" * 32) is None


async def test_an_import_of_a_token_no_longer_staged_says_so(members_env):
    with pytest.raises(ImportFileError, match="重新上传"):
        await _run(members_env, "f" * 32, dry_run=True)


async def test_search_lists_finds_like_followers_and_by_a_bound_follower(members_env):
    await members_env.import_rows([HEADER, row("浙江省摄影家协会", B), row("浙江省书法家协会", C)])
    listed = await search_units(members_env.db, members_env.services.members, "", limit=1)
    assert (listed.how, listed.total, [e.name for e in listed.entries]) == ("list", 2, ["浙江省书法家协会"])
    found = await search_units(members_env.db, members_env.services.members, "摄影")
    assert (found.how, [e.credit_code for e in found.entries]) == ("partial", [B])
    code_, member, _ = await binding.issue_code(members_env.db, C, members_env.clock.now(), 60)
    assert (await binding.bind(members_env.services, "o-follower-1", code_)).status == "bound"
    by_follower = await search_units(members_env.db, members_env.services.members, "o-follower-1")
    assert (by_follower.how, [e.name for e in by_follower.entries]) == ("follower", ["浙江省书法家协会"])
    nothing = await search_units(members_env.db, members_env.services.members, "浙江省摄影家学会会")
    assert nothing.how in ("typo", "none")


async def test_a_units_page_has_its_facts_grade_history_and_bound_followers(members_env):
    await members_env.import_rows([HEADER, row("浙江省摄影家协会", B, grade="3A", grade_year="2020")])
    members_env.clock.advance(86400)
    await members_env.import_rows([HEADER, row("浙江省摄影家协会", B, grade="4A", grade_year="2024", dues="2026")], "b.csv")
    code_, member, _ = await binding.issue_code(members_env.db, B, members_env.clock.now(), 60)
    await binding.bind(members_env.services, "o-follower-2", code_)
    page = await member_page(members_env.db, member.id)
    assert dict(page.facts())["grade"] == "4A"
    assert [(h.field, h.old_value, h.new_value) for h in page.grade_history] == [
        ("grade", "3A", "4A"), ("grade_year", "2020", "2024")]
    assert {h.field for h in page.history} == {"grade", "grade_year", "dues_paid_through"}
    assert [b.openid for b in page.bound] == ["o-follower-2"] and [e.kind for e in page.events] == ["bind"]
    await binding.unbind(members_env.db, "o-follower-2", members_env.clock.now(), member.id, kind="revoke")
    page = await member_page(members_env.db, member.id)
    assert page.bound == [] and [e.kind for e in page.events] == ["bind", "revoke"]
    assert await member_page(members_env.db, 999_999) is None


async def test_the_export_download_imports_back_unchanged(members_env, tmp_path):
    await members_env.import_rows([HEADER, row("浙江省摄影家协会", B), row("浙江省书法家协会", C)])
    data = table_bytes(export_table(await list_units(members_env.db, include_retired=False)), xlsx=True)
    assert data[:2] == b"PK"  # an xlsx is a zip
    staged = stage(tmp_path / "uploads", data, "export.xlsx")
    again = await _run(members_env, staged.token, dry_run=True)
    assert (len(again.added), len(again.updated), again.unchanged, again.rejected) == (0, 0, 2, [])
    csv_bytes = table_bytes([["单位名称"], ["浙江省摄影家协会"]], xlsx=False)
    assert csv_bytes.startswith("\ufeff".encode()) and "浙江省摄影家协会".encode() in csv_bytes
