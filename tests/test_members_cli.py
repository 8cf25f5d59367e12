"""`main.py members …` as an editor uses them: a unit named as followers name it (full name, short
name, initials, code), a choice when that fits several, Chinese output with labelled local times."""

from __future__ import annotations

import io

import pytest

from store.members.demo import demo_rows


class Terminal(io.StringIO):
    """Standard input that is a terminal the editor types into."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def registry(cli):
    assert cli("demo", "load")[0] == 0
    return {r.name: r.credit_code for r in demo_rows()}


def test_bind_code_takes_a_name_and_labels_its_expiry(cli, registry):
    status, out, _ = cli("members", "bind-code", "浙江省婚姻家庭协会")
    assert status == 0, out
    assert out.startswith("浙江省婚姻家庭协会\n绑定码：")
    assert "（只能使用一次，有效期至 " in out and "（北京时间））" in out
    assert "请该单位的工作人员向公众号发送：绑定 " in out


@pytest.mark.parametrize("unit", ["浙江省婚姻家庭协会", "浙江婚姻家庭协会", "CODE"])
def test_show_takes_the_full_name_a_short_name_or_the_code(cli, registry, unit):
    status, out, _ = cli("members", "show", registry["浙江省婚姻家庭协会"] if unit == "CODE" else unit)
    assert status == 0 and "单位名称：浙江省婚姻家庭协会" in out


def test_an_ambiguous_name_is_listed_and_nothing_is_done_without_a_terminal(cli, registry):
    status, out, _ = cli("members", "retire", "婚姻家庭协会")
    assert status == 1
    assert "“婚姻家庭协会”可能指以下单位：" in out
    for n, name in enumerate(["浙江省婚姻家庭协会", "杭州市婚姻家庭协会", "宁波市婚姻家庭协会"], 1):
        assert f"  {n}. {name}  {registry[name]}" in out
    assert "请用其中一家的统一社会信用代码或全称再运行一次。" in out
    assert "[已退会]" not in cli("members", "list", "--all")[1]


def test_an_ambiguous_name_asks_at_a_terminal(cli, registry, monkeypatch):
    monkeypatch.setattr("sys.stdin", Terminal("2\n"))
    status, out, _ = cli("members", "retire", "婚姻家庭协会")
    assert status == 0 and "请输入序号（直接回车取消）：" in out
    assert "杭州市婚姻家庭协会：已标记为退会（" in out
    monkeypatch.setattr("sys.stdin", Terminal("\n"))
    status, out, _ = cli("members", "bind-code", "婚姻家庭协会")
    assert status == 1 and "已取消，未作任何修改。" in out


def test_unknown_units_and_bad_codes_say_so(cli, registry):
    status, out, _ = cli("members", "bindings", "火星协会")
    assert status == 1 and out.startswith("没有找到“火星协会”。")
    bad = registry["浙江省婚姻家庭协会"][:17] + ("0" if registry["浙江省婚姻家庭协会"][17] != "0" else "1")
    status, out, _ = cli("members", "show", bad)
    assert status == 1 and "像是统一社会信用代码，但校验位不对" in out


def test_bindings_and_unbind_with_local_labelled_times(cli, registry):
    status, out, _ = cli("members", "bindings", "浙江省婚姻家庭协会")
    assert status == 0
    assert out.splitlines() == ["浙江省婚姻家庭协会", "已绑定的粉丝：0 位（时间为北京时间）", "绑定记录：", "  （无）"]
    status, out, _ = cli("members", "unbind", "浙江省婚姻家庭协会", "o_nobody")
    assert status == 1 and out.strip() == "o_nobody 没有绑定 浙江省婚姻家庭协会"


def test_every_unit_argument_says_what_it_is(cli, capsys):
    for command in ("show", "retire", "bind-code", "bindings", "unbind"):
        with pytest.raises(SystemExit):
            cli("members", command, "--help")
        out = capsys.readouterr().out
        assert "UNIT" in out and "全称、简称、拼音首字母或 18 位统一社会信用代码" in out
        assert out.startswith("用法：") and "显示本说明并退出" in out


def test_files_that_cannot_be_read_or_written_say_so_in_words(cli, tmp_path):
    status, out, _ = cli("members", "import", str(tmp_path / "none.csv"))
    assert status == 2 and out.strip() == f"{tmp_path / 'none.csv'}：找不到这个文件或它所在的文件夹"
    status, out, _ = cli("members", "export", str(tmp_path / "no" / "such" / "dir.csv"))
    assert status == 2 and "找不到这个文件或它所在的文件夹" in out


def test_times_are_shown_in_the_configured_zone_with_its_label():
    from datetime import UTC, datetime

    from core.clock import local_time, shown_time

    at = datetime(2026, 1, 5, 18, 30, tzinfo=UTC)
    assert shown_time(at, "Asia/Shanghai") == "2026-01-06 02:30（北京时间）"
    assert shown_time(at, "Europe/Berlin") == "2026-01-05 19:30（Europe/Berlin）"
    assert local_time(at, "Asia/Shanghai", "%Y-%m-%d") == "2026-01-06"
