"""`[menu]` → menu/create JSON: WeChat's limits checked before the call, and `menu sync` against the
local platform."""

from __future__ import annotations

import pytest

from core.config import MenuSettings
from main import main as run_main
from wechat.menu import MenuError, build_menu


def menu(*buttons: dict) -> MenuSettings:
    return MenuSettings.model_validate({"button": list(buttons)})


def problems(settings: MenuSettings) -> list[str]:
    with pytest.raises(MenuError) as e:
        build_menu(settings)
    return e.value.problems


class TestBuild:
    def test_demo_shape(self):
        out = build_menu(
            menu(
                {"name": "最新动态", "type": "click", "key": "NEWS_LATEST"},
                {
                    "name": "会员服务",
                    "sub_button": [
                        {"name": "我的状态", "key": "MEMBER_STATUS"},
                        {"name": "官网", "type": "view", "url": "https://example.org/", "key": "ignored"},
                    ],
                },
                {
                    "name": "小程序",
                    "type": "miniprogram",
                    "url": "https://example.org/",
                    "appid": "wx123",
                    "pagepath": "pages/index",
                },
            )
        )
        assert out == {
            "button": [
                {"type": "click", "name": "最新动态", "key": "NEWS_LATEST"},
                {
                    "name": "会员服务",
                    "sub_button": [
                        {"type": "click", "name": "我的状态", "key": "MEMBER_STATUS"},
                        {"type": "view", "name": "官网", "url": "https://example.org/"},
                    ],
                },
                {
                    "type": "miniprogram",
                    "name": "小程序",
                    "url": "https://example.org/",
                    "appid": "wx123",
                    "pagepath": "pages/index",
                },
            ]
        }

    def test_config_toml_menu_is_valid(self):
        from core.config import load_settings

        settings = load_settings("config.toml", environ={})
        assert len(build_menu(settings.menu)["button"]) == 3

    def test_limits_at_the_edge_pass(self):
        # 5 Chinese characters = 15 bytes ≤ 16; 20 = 60 bytes; key 128 bytes; url 1024 bytes.
        url = "https://e.org/" + "a" * (1024 - len("https://e.org/"))
        out = build_menu(
            menu(
                {"name": "一二三四五", "key": "k" * 128},
                {"name": "x", "sub_button": [{"name": "字" * 20, "type": "view", "url": url}] * 5},
                {"name": "y", "key": "Y"},
            )
        )
        # Nothing at the limit is refused, cut or dropped: each button goes out as written.
        assert out == {"button": [
            {"type": "click", "name": "一二三四五", "key": "k" * 128},
            {"name": "x", "sub_button": [{"type": "view", "name": "字" * 20, "url": url}] * 5},
            {"type": "click", "name": "y", "key": "Y"},
        ]}


class TestLimits:
    def test_no_buttons(self):
        assert "没有菜单" in problems(menu())[0]

    def test_too_many_top_level(self):
        assert problems(menu(*[{"name": f"b{i}", "key": f"K{i}"} for i in range(4)])) == [
            "一级菜单有 4 个，最多 3 个"
        ]

    def test_too_many_sub_buttons(self):
        subs = [{"name": f"s{i}", "key": f"K{i}"} for i in range(6)]
        assert problems(menu({"name": "更多", "sub_button": subs})) == [
            "第 1 个菜单“更多”：子菜单有 6 个，最多 5 个"
        ]

    def test_top_name_bytes(self):
        [p] = problems(menu({"name": "一二三四五六", "key": "K"}))
        assert p.startswith("第 1 个菜单“一二三四五六”：名称有 18 字节，最多 16 字节")

    def test_sub_name_bytes(self):
        [p] = problems(menu({"name": "m", "sub_button": [{"name": "字" * 21, "key": "K"}]}))
        assert p == f"第 1.1 个菜单“{'字' * 21}”：名称有 63 字节，最多 60 字节"

    def test_key_and_url_length(self):
        assert problems(menu({"name": "a", "key": "k" * 129})) == [
            "第 1 个菜单“a”：key 有 129 字节，最多 128 字节"
        ]
        long_url = "https://e.org/" + "a" * 1011
        assert problems(menu({"name": "a", "type": "view", "url": long_url})) == [
            "第 1 个菜单“a”：url 有 1025 字节，最多 1024 字节"
        ]

    def test_required_fields_per_type(self):
        got = problems(
            menu(
                {"name": "点我", "type": "click"},
                {"name": "网页", "type": "view"},
                {
                    "name": "m",
                    "sub_button": [
                        {"name": "小程序", "type": "miniprogram", "url": "https://e.org"},
                        {"name": "素材", "type": "media_id"},
                        {"name": "文章", "type": "article_id"},
                    ],
                },
            )
        )
        assert got == [
            "第 1 个菜单“点我”：click 类型的菜单需要 key",
            "第 2 个菜单“网页”：view 类型的菜单需要 url",
            "第 3.1 个菜单“小程序”：miniprogram 类型的菜单需要 appid",
            "第 3.1 个菜单“小程序”：miniprogram 类型的菜单需要 pagepath",
            "第 3.2 个菜单“素材”：media_id 类型的菜单需要 media_id",
            "第 3.3 个菜单“文章”：article_id 类型的菜单需要 article_id",
        ]

    def test_unknown_type_and_bad_url(self):
        got = problems(
            menu({"name": "a", "type": "popup", "key": "K"}, {"name": "b", "type": "view", "url": "e.org"})
        )
        assert got[0].startswith("第 1 个菜单“a”：未知的类型 'popup'（可选：article_id,")
        assert got[1] == "第 2 个菜单“b”：url 必须以 http:// 或 https:// 开头"

    def test_parent_with_own_action(self):
        got = problems(
            menu({"name": "m", "type": "view", "url": "https://e.org", "sub_button": [{"name": "s", "key": "K"}]})
        )
        assert got == ["第 1 个菜单“m”：有子菜单的菜单不能再设 type/key/url"]

    def test_every_problem_reported_at_once(self):
        got = problems(
            menu(
                {"name": "一二三四五六", "type": "click"},
                {"name": "b", "sub_button": [{"name": "s", "type": "view"}]},
            )
        )
        assert got == [
            "第 1 个菜单“一二三四五六”：名称有 18 字节，最多 16 字节（约 5 个汉字）",
            "第 1 个菜单“一二三四五六”：click 类型的菜单需要 key",
            "第 2.1 个菜单“s”：view 类型的菜单需要 url",
        ]

    def test_cli_dry_run_reports_error_without_calling(self, tmp_path, capsys, migrated):
        cfg = write_config(tmp_path, "http://127.0.0.1:9", '[[menu.button]]\nname="一二三四五六"\nkey="K"\n', migrated)
        assert run_main(["menu", "sync", "--config", cfg]) == 2
        err = capsys.readouterr().err
        assert "错误：[menu] 不符合微信的规定：" in err and "第 1 个菜单“一二三四五六”：名称有 18 字节" in err


DEMO_MENU = {
    "button": [
        {"name": "最新动态", "type": "click", "key": "NEWS_LATEST"},
        {"name": "会员服务", "sub_button": [{"name": "我的状态", "key": "MEMBER_STATUS"},
                                        {"name": "官网", "type": "view", "url": "https://example.org/"}]},
    ]
}


def write_config(tmp_path, api_base_url: str, menu: str, url: str) -> str:
    """A config on the migrated database `url` (the command reads the stored menu), with `menu` as [menu]."""
    cfg = tmp_path / "menu.toml"
    cfg.write_text(
        '[wechat]\nappid="wxtest0000000001"\nsecret="test-secret"\ntoken="testtoken"\n'
        f'account_id="gh_test00000001"\napi_base_url="{api_base_url}"\n'
        f'[database]\nurl="{url}"\n' + menu,
        encoding="utf-8",
    )
    return str(cfg)


class TestSync:
    async def test_sync_creates_the_menu_on_the_platform(self, sandbox, make_settings, migrated):
        from app import open_services
        from store import audit
        from store import menu as menus

        settings = sandbox.settings_for(make_settings, menu=DEMO_MENU, database={"url": migrated})
        async with open_services(settings) as services:
            done = await menus.sync(services, audit.Actor("li", via="console"))
            # The config's menu, once synced, is the first saved version; the sync is in the audit log.
            assert (await menus.current(services)).saved.id == done.saved.id
            rows, _ = await audit.search(services.db, action="menu_sync")
        assert [(r.actor, r.target_id) for r in rows] == [("li", str(done.saved.id))]
        # What the platform holds, written out: not the product's own output compared with itself.
        assert sandbox.platform.state["menu"] == {"button": [
            {"type": "click", "name": "最新动态", "key": "NEWS_LATEST"},
            {"name": "会员服务", "sub_button": [
                {"type": "click", "name": "我的状态", "key": "MEMBER_STATUS"},
                {"type": "view", "name": "官网", "url": "https://example.org/"},
            ]},
        ]}
        assert len(sandbox.calls("menu/create")) == 1

    async def test_cli_sync(self, sandbox, tmp_path, capsys, migrated):
        import asyncio

        menu = '[[menu.button]]\nname="帮助"\nkey="HELP"\n[[menu.button]]\nname="官网"\ntype="view"\nurl="https://e.org/"\n'
        cfg = await asyncio.to_thread(write_config, tmp_path, sandbox.url, menu, migrated)
        code = await asyncio.to_thread(run_main, ["menu", "sync", "--config", cfg])
        assert code == 0
        assert capsys.readouterr().out.strip() == "菜单已同步（第 1 版）：2 个一级菜单，共 2 个功能"
        assert sandbox.platform.state["menu"] == {"button": [
            {"type": "click", "name": "帮助", "key": "HELP"},
            {"type": "view", "name": "官网", "url": "https://e.org/"},
        ]}

    async def test_cli_syncs_the_menu_saved_in_the_console_not_the_config(self, sandbox, tmp_path, capsys, migrated):
        """One operation on the stored menu: once an editor saved a version, [menu] is only a seed."""
        import asyncio

        from app import open_services
        from core.config import load_settings
        from store import menu as menus
        from wechat.menu import parse_menu

        cfg = await asyncio.to_thread(write_config, tmp_path, sandbox.url, '[[menu.button]]\nname="帮助"\nkey="HELP"\n', migrated)

        async def save() -> None:
            async with open_services(load_settings(cfg)) as services:
                await menus.save(services, parse_menu({"button": [{"name": "最新动态", "key": "NEWS_LATEST"}]}), "li")

        await save()
        assert await asyncio.to_thread(run_main, ["menu", "sync", "--config", cfg, "--as", "wang"]) == 0
        assert sandbox.platform.state["menu"] == {"button": [{"type": "click", "name": "最新动态", "key": "NEWS_LATEST"}]}

    async def test_cli_reports_wechat_refusal(self, sandbox, tmp_path, capsys, migrated):
        import asyncio

        sandbox.platform.add_fault("menu/create", errcode=40018, times=None)
        cfg = await asyncio.to_thread(write_config, tmp_path, sandbox.url, '[[menu.button]]\nname="帮助"\nkey="HELP"\n', migrated)
        assert await asyncio.to_thread(run_main, ["menu", "sync", "--config", cfg]) == 1
        assert "错误：微信拒绝了菜单：" in capsys.readouterr().err
        assert sandbox.platform.state["menu"] is None

    def test_dry_run_prints_json_without_calling(self, tmp_path, capsys, migrated):
        cfg = write_config(tmp_path, "http://127.0.0.1:9", '[[menu.button]]\nname="帮助"\nkey="HELP"\n', migrated)
        assert run_main(["menu", "sync", "--dry-run", "--config", cfg]) == 0
        assert '"key": "HELP"' in capsys.readouterr().out

