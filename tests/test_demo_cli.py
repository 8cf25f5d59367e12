"""`main.py demo load` (run by every `make run`): demo data only into an empty database, never over
real rows."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from store.db import make_engine, make_session_factory
from store.members.demo import UNITS, demo_rows
from store.models.content import Article
from store.models.members import Member
from tests.fixtures.members import HEADER, code, row, write_csv


def _members(url: str) -> dict[str, Member]:
    async def read() -> dict[str, Member]:
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as session:
                return {m.credit_code: m for m in await session.scalars(select(Member))}
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _articles(url: str) -> int:
    async def read() -> int:
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as session:
                return len(list(await session.scalars(select(Article.id))))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_demo_goes_into_an_empty_database_and_a_second_run_changes_nothing(cli):
    code_, out, _ = cli("demo", "load")
    assert code_ == 0 and f"演示数据已装入：会员单位 {len(UNITS)} 家、文章 6 篇、编辑后台演示账号 3 个。" in out
    # The console's demo accounts and their passwords, on the terminal (printed, not logged).
    assert "编辑：账号 demo_editor  密码 bianji-demo-2026" in out and "审批人：账号 demo_approver" in out
    code_, out, _ = cli("demo", "load")
    assert code_ == 0 and "演示数据已在数据库中，未作任何修改。" in out
    assert "审批人：账号 demo_approver  密码 shenpi-demo-2026" in out


def test_a_unit_the_secretariat_imported_keeps_its_real_grade_on_the_next_make_run(cli, tmp_path):
    assert cli("demo", "load")[0] == 0
    demo = demo_rows()[0]  # 浙江省婚姻家庭协会, 4A 2021 in the demo
    real = write_csv(tmp_path / "real.csv", [
        HEADER, row(demo.name, demo.credit_code, "副会长单位", grade="5A", grade_year="2025", dues="2027"),
    ])
    assert cli("members", "import", str(real))[0] == 0

    code_, out, _ = cli("demo", "load")  # what `make run` does every time
    unit = _members(cli.db_url)[demo.credit_code]
    assert (unit.grade, unit.grade_year, unit.dues_paid_through) == ("5A", 2025, 2027)
    assert code_ == 0 and "演示数据已在数据库中，未作任何修改。" in out


def test_a_real_database_gets_no_demo_data_at_all(cli, tmp_path):
    real = write_csv(tmp_path / "real.csv", [HEADER, row("浙江省真实协会", code(1), "理事单位")])
    assert cli("members", "import", str(real))[0] == 0

    code_, out, _ = cli("demo", "load")
    assert set(_members(cli.db_url)) == {code(1)}  # no demo unit beside the real one
    assert code_ == 0
    assert "数据库中已有数据（会员单位 1 家），演示数据只装入空数据库，本次没有装入任何演示数据。" in out
    assert _articles(cli.db_url) == 0  # and no demo article either
