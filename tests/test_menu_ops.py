"""The menu operations the console uses: a menu given as data is parsed and checked against WeChat's
limits (names counted in UTF-8 bytes, as WeChat counts them), saved as the current version (the
config's `[menu]` until then), and synced to the platform with the sync time kept."""

from __future__ import annotations

import pytest

from app import open_services
from core.clock import FakeClock
from store import menu as menus
from store.shared import MemoryState
from wechat.errors import WeChatError
from wechat.menu import MenuError, check, name_bytes, parse_menu, sync

EDITED = {"button": [
    {"name": "最新动态", "type": "click", "key": "NEWS_LATEST"},
    {"name": "会员服务", "sub_button": [
        {"name": "我的状态", "type": "click", "key": "MEMBER_STATUS"},
        {"name": "官网", "type": "view", "url": "https://example.org/"},
    ]},
]}


def test_names_are_counted_in_bytes_as_wechat_counts():
    assert (name_bytes("会员服务"), name_bytes("News"), name_bytes("会员 A")) == (12, 4, 8)
    too_long = parse_menu({"button": [{"name": "联合会会员服务", "type": "click", "key": "K"}]})
    assert check(too_long) == ["第 1 个菜单“联合会会员服务”：名称有 21 字节，最多 16 字节（约 5 个汉字）"]
    assert check(parse_menu(EDITED)) == []


def test_malformed_data_is_refused_with_what_is_wrong():
    with pytest.raises(MenuError) as e:
        parse_menu({"button": [{"name": "帮助", "key": "HELP"}, {"name": " ", "type": "click"}]})
    assert e.value.problems == ["第 2 个菜单没有名称"]
    with pytest.raises(MenuError) as e:
        parse_menu({"button": [{"name": "帮助", "colour": "red"}]})
    assert "菜单的格式不对：button.0.colour" in e.value.problems[0]


@pytest.fixture
async def services(migrated, sandbox, make_settings):
    clock = FakeClock()
    settings = sandbox.settings_for(make_settings, database={"url": migrated},
                                    menu={"button": [{"name": "帮助", "key": "HELP"}]})
    async with open_services(settings, clock, shared=MemoryState(clock)) as s:
        yield s


async def test_saved_menu_becomes_current_and_syncs_to_the_platform(services, sandbox):
    before = await menus.current(services)
    assert before.saved is None and [b.name for b in before.menu.button] == ["帮助"]  # [menu] of config.toml

    saved = await menus.save(services, parse_menu(EDITED), by="editor-li")
    now = await menus.current(services)
    assert now.saved.id == saved.id and now.saved.saved_by == "editor-li" and now.synced_at is None
    assert [b.name for b in now.menu.button] == ["最新动态", "会员服务"]

    body = await sync(services.api, now.menu)
    await menus.mark_synced(services, saved.id)
    assert sandbox.platform.state["menu"] == body
    assert body["button"][1]["sub_button"][1] == {"type": "view", "name": "官网", "url": "https://example.org/"}
    assert (await menus.current(services)).synced_at == services.clock.now()


async def test_a_menu_over_the_limits_is_never_sent(services, sandbox):
    bad = parse_menu({"button": [{"name": "联合会会员服务", "type": "click", "key": "K"}]})
    with pytest.raises(MenuError):
        await sync(services.api, bad)
    assert sandbox.calls("menu/create") == []


async def test_a_refusal_by_wechat_is_an_error_and_nothing_is_marked(services, sandbox):
    sandbox.platform.add_fault("menu/create", errcode=40018, times=None)
    saved = await menus.save(services, parse_menu(EDITED), by="editor-li")
    with pytest.raises(WeChatError):
        await sync(services.api, (await menus.current(services)).menu)
    assert (await menus.current(services)).saved.id == saved.id and sandbox.platform.state["menu"] is None
