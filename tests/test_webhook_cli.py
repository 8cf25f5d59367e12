"""`main.py keywords …`, `log tail` and `followers forget` end to end on a real config file."""

from __future__ import annotations

import main
from store.migrate import upgrade_sync
from tests.conftest import AES_KEY


def _config(tmp_path) -> str:
    db = tmp_path / "cli.db"
    path = tmp_path / "config.toml"
    path.write_text(f"""
[wechat]
appid = "wxtest0000000001"
secret = "s"
token = "testtoken"
encoding_aes_key = "{AES_KEY}"
account_id = "gh_test00000001"
api_base_url = "http://127.0.0.1:9"
[database]
url = "sqlite+aiosqlite:///{db}"
[[keywords]]
match = "exact"
pattern = "联系方式"
reply = "电话 0571"
""", encoding="utf-8")
    upgrade_sync(f"sqlite+aiosqlite:///{db}")
    return str(path)


def test_keywords_commands(tmp_path, capsys):
    cfg = _config(tmp_path)
    assert main.main(["demo", "load", "--config", cfg]) == 0
    assert main.main(["keywords", "add", "--match", "prefix", "年会", "--reply", "年会在12月",
                      "--priority", "10", "--config", cfg]) == 0
    assert main.main(["keywords", "add", "--match", "regex", "([", "--reply", "x", "--config", cfg]) == 2
    assert main.main(["keywords", "add", "简介", "--reply", "总会简介", "--news-title", "关于我们",
                      "--url", "http://127.0.0.1/about", "--config", cfg]) == 0
    capsys.readouterr()
    assert main.main(["keywords", "list", "--config", cfg]) == 0
    listed = capsys.readouterr().out
    assert listed.index("年会") < listed.index("联系方式") and "关于我们" in listed

    assert main.main(["keywords", "test", "年会 时间", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert "“年会 时间” → 关键词规则 #2：开头相同 年会" in out and "  回复：年会在12月" in out
    assert main.main(["keywords", "test", "帮助", "--config", cfg]) == 0
    assert "→ 帮助：完全相同 帮助/help/?/？/菜单" in capsys.readouterr().out
    assert main.main(["keywords", "test", "没有的", "--config", cfg]) == 0
    assert "→ 兜底回复：消息类型 text" in capsys.readouterr().out
    assert main.main(["keywords", "add", "--match", "regex", "([", "--reply", "x", "--config", cfg]) == 2
    assert "错误：不是有效的正则表达式：" in capsys.readouterr().out

    assert main.main(["keywords", "remove", "1", "--config", cfg]) == 0
    assert main.main(["keywords", "remove", "1", "--config", cfg]) == 1
    assert main.main(["demo", "load", "--config", cfg]) == 0  # the deleted seed stays deleted
    capsys.readouterr()
    main.main(["keywords", "list", "--config", cfg])
    assert "联系方式" not in capsys.readouterr().out


def test_log_tail_and_forget(tmp_path, capsys):
    import asyncio

    from app import open_services
    from core.config import load_settings

    cfg = _config(tmp_path)

    async def write():
        async with open_services(load_settings(cfg)) as services:
            log = services.messagelog
            log.record("o_1", "in", "webhook", "text", "你好", "m:1")
            log.record("o_1", "out", "passive", "text", "您好", "m:1", 1.5)
            log.record("o_2", "in", "webhook", "text", "别人的", "m:2")
            await log.flush()

    asyncio.run(write())
    capsys.readouterr()
    assert main.main(["log", "tail", "-n", "5", "--openid", "o_1", "--config", cfg]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "时间为北京时间；→ 收到，← 回复"
    assert len(out) == 3 and "→ o_1 [消息 text] 你好" in out[1] and "1.5 毫秒" in out[2]
    assert main.main(["followers", "forget", "o_1", "--config", cfg]) == 0
    assert "消息记录 2 条" in capsys.readouterr().out
    main.main(["log", "tail", "--config", cfg])
    out = capsys.readouterr().out
    assert "o_1" not in out and "别人的" in out
