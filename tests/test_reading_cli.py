"""`main.py stats fetch` and `main.py stats report` as an editor runs them: bad input answered
clearly, the report printed with the federation's sentence, the xlsx written."""

from __future__ import annotations

import asyncio

from openpyxl import load_workbook

from store.db import make_engine, make_session_factory
from tests.test_reading_report import fill


def test_bad_input_gets_a_clear_answer(cli):
    code, out, _ = cli("stats", "fetch", "--since", "2026-13-01")
    assert code == 2 and "“2026-13-01”不是日期，应为 YYYY-MM-DD" in out
    code, out, _ = cli("stats", "report", "--year", "2025", "--since", "2026")
    assert code == 2 and "--since 不能晚于 --year" in out


async def fill_years(url: str, *years: tuple[int, int, int]) -> None:
    """The years' articles and reads, in one event loop, the engine disposed in it (a pooled
    connection left to a later loop is closed by the garbage collector on a loop that is gone)."""
    engine = make_engine(url)
    try:
        for year, articles, reads_each in years:
            await fill(make_session_factory(engine), year, articles, reads_each)
    finally:
        await engine.dispose()


def test_the_report_and_its_workbook(cli, tmp_path):
    code, out, _ = cli("stats", "report", "--year", "2026")  # empty: says so in figures, fails nothing
    assert code == 0 and out.splitlines()[:2] == ["公众号阅读数据（2026 年）", "年均推文0篇，阅读量0。"]
    asyncio.run(fill_years(cli.db_url, (2026, 30, 400), (2025, 10, 100)))
    code, out, _ = cli("stats", "report", "--year", "2026", "--since", "2025", "--top", "2", "--xlsx",
                       str(tmp_path / "r.xlsx"))
    lines = out.splitlines()
    assert code == 0 and lines[0] == "公众号阅读数据（2025—2026 年）"
    assert lines[1] == "年均推文20篇，阅读量6500。"  # (10 + 30) / 2 articles, (1,000 + 12,000) / 2 reads
    assert "阅读最多的文章（前 2 篇）：" in lines and f"已写入 {tmp_path / 'r.xlsx'}" in lines
    wb = load_workbook(tmp_path / "r.xlsx")
    assert [c.value for c in wb["按年"][3]][:3] == ["年份", "发文篇数", "阅读（人次）"]
