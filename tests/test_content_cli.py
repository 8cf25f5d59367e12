"""`main.py news …` commands and the demo articles."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from app import open_services
from core.clock import FakeClock
from main import main
from store.content.demo import DEMO, load_demo
from store.content.search import search
from store.migrate import upgrade
from store.models.content import Image
from store.shared import MemoryState
from tests.content_site import make_site_app


@pytest.fixture
async def config(tmp_path):
    db = tmp_path / "bot.db"
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[wechat]
appid = "wxtest0000000001"
secret = "s"
token = "testtoken"
account_id = "gh_test"
api_base_url = "http://127.0.0.1:9"
[database]
url = "sqlite+aiosqlite:///{db}"
[content]
media_dir = "{tmp_path / "media"}"
fetch_delay_seconds = 0
fetch_timeout_seconds = 0.5
""",
        encoding="utf-8",
    )
    await upgrade(f"sqlite+aiosqlite:///{db}")
    return str(path)


async def run(argv, capsys) -> tuple[int, str]:
    import asyncio

    code = await asyncio.to_thread(main, argv)  # the commands run their own event loop
    return code, capsys.readouterr().out


async def test_import_list_search_ready_edit_show(config, capsys):
    server = TestServer(make_site_app(slow_seconds=2.0), host="127.0.0.1")
    await server.start_server()
    try:
        code, out = await run(
            ["news", "import", str(server.make_url("/news/")), "--pages", "1", "--config", config], capsys
        )
    finally:
        await server.close()
    assert code == 0
    assert "新增 3 篇，更新 0 篇，未变 0 篇，失败 2 篇" in out and "gone.html — 网站回应 HTTP 404" in out

    code, out = await run(["news", "list", "--config", config], capsys)
    assert code == 0 and len(out.splitlines()) == 3 and "已导入" in out and "imported" not in out

    code, out = await run(["news", "search", "培训", "--config", config], capsys)
    assert code == 0 and "公益活动走进山区小学" not in out and "（词语在正文中）" not in out
    code, out = await run(["news", "search", "捐赠", "--config", config], capsys)
    assert "山区小学" in out and "（词语在正文中）" in out
    article_id = out.split()[0]

    code, out = await run(
        ["news", "edit", article_id, "--wechat-title", "公益课堂走进山区" * 5, "--config", config], capsys
    )
    assert code == 2 and "错误：微信标题有 40 个字，微信最多允许 32 个字" in out
    code, out = await run(
        [
            "news",
            "edit",
            article_id,
            "--wechat-title",
            "公益课堂走进山区",
            "--digest",
            "志愿者送课进山。",
            "--config",
            config,
        ],
        capsys,
    )
    assert code == 0 and "公益课堂走进山区" in out
    code, out = await run(["news", "ready", article_id, "99999", "--config", config], capsys)
    assert code == 1 and f"{article_id}：已标记为可推送" in out and "99999：没有这篇文章" in out
    code, out = await run(["news", "show", article_id, "--config", config], capsys)
    assert (
        code == 0 and "状态：可推送" in out and "微信摘要：志愿者送课进山。" in out and "（封面）" in out
    )


async def test_no_progress_bar_when_output_is_not_a_terminal(config, capsys):
    server = TestServer(make_site_app(), host="127.0.0.1")
    await server.start_server()
    try:
        import asyncio

        code = await asyncio.to_thread(main, ["news", "import", str(server.make_url("/news/")), "--pages", "1",
                                              "--config", config])
    finally:
        await server.close()
    err = capsys.readouterr().err
    assert code == 0 and "\r" not in err and "\x1b" not in err and "pages" not in err


async def test_import_everything_failed_exits_1(config, capsys):
    code, out = await run(["news", "import", "http://127.0.0.1:9/news/", "--config", config], capsys)
    assert code == 1 and "失败 1 篇" in out
    with pytest.raises(SystemExit) as exit_:
        await run(["news", "import", "x", "--since", "yesterday", "--config", config], capsys)
    assert exit_.value.code == 2 and "不是日期：'yesterday'" in capsys.readouterr().err


async def test_demo_is_idempotent(migrated, make_settings):
    settings = make_settings(database={"url": migrated})
    clock = FakeClock()
    async with open_services(settings, clock, shared=MemoryState(clock)) as services:
        assert await load_demo(services) == len(DEMO)
        assert await load_demo(services) == 0
        async with services.db() as session:
            assert [a.status for a in await search(session, "等级评估", 10)] == ["ready", "ready", "ready"]
            assert (await session.execute(select(func.count()).select_from(Image))).scalar() == len(DEMO)

