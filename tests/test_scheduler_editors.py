"""What an editor meets using `main.py push …` against the local platform: approvals that never send
early, "send now" that says so and asks, previews reported per recipient, reasons and limits that
say what to do, confirmations for what cannot be undone, and help and messages in Chinese (您) with
every time labelled with its zone."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from main import main
from scheduler import planning
from store.models.content import Article
from store.models.pushes import Notification, Push
from tests.conftest import base_config
from tests.scheduler_procs import to_toml
from tests.scheduler_support import EDITOR, EVERY_DAY, bot_env

STRANGER = "o_not_following_0001"


class Cli:
    """`main.py push …` in a thread (each command runs its own event loop), on one config file."""

    def __init__(self, path, capsys, sandbox, make_settings) -> None:
        self.path, self.capsys, self.sandbox, self.make_settings = path, capsys, sandbox, make_settings

    async def __call__(self, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        def run() -> tuple[int, str, str]:
            old = sys.stdin
            if stdin is not None:
                sys.stdin = _Terminal(stdin)
            try:
                code = main(["push", *argv, "--config", str(self.path)])
            finally:
                sys.stdin = old
            out = self.capsys.readouterr()
            return code, out.out, out.err

        return await asyncio.to_thread(run)

    async def push(self, push_id: int) -> Push:
        async with bot_env(self.sandbox, self.make_settings, webhook=False) as env:
            return await env.push(push_id)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _cfg(tmp_path, sandbox, editors: list[str], **scheduler) -> dict:
    return base_config(tmp_path, wechat={"api_base_url": sandbox.url},
                       scheduler={"slots": EVERY_DAY, "poll_seconds": 0.2, "retry_seconds": 0.1, **scheduler},
                       editors={"openids": editors})


@pytest.fixture
async def cli(sandbox, make_settings, tmp_path, capsys):
    """A configured CLI with 6 ready articles; `cli.reconfigure(editors=[…], …)` to change settings."""
    async with bot_env(sandbox, make_settings, webhook=False) as env:
        await env.articles(6, images=1)
    path = tmp_path / "cli.toml"
    tool = Cli(path, capsys, sandbox, make_settings)

    def reconfigure(editors=(EDITOR,), **scheduler):
        path.write_text(to_toml(_cfg(tmp_path, sandbox, list(editors), **scheduler)), encoding="utf-8")

    tool.reconfigure = reconfigure
    reconfigure()
    return tool


def two_days_ahead(hour: int = 20) -> str:
    local = datetime.now(planning.ZoneInfo("Asia/Shanghai")) + timedelta(days=2)
    return local.replace(hour=hour, minute=0).strftime("%Y-%m-%d %H:%M")


# --- 1. approving twice, and sending now ---------------------------------------------------------


async def test_a_second_approve_changes_nothing_and_nothing_goes_before_its_time(cli, sandbox):
    at = two_days_ahead()
    code, out, _ = await cli("create", "--articles", "1", "--at", at)
    assert code == 0 and f"{at}（北京时间）" in out
    await cli("run")
    code, out, _ = await cli("approve", "1")
    assert code == 0 and "已批准" in out and f"{at}（北京时间）" in out and "不会提前" in out
    await cli("run")
    assert (await cli.push(1)).state == "approved"
    code, out, _ = await cli("approve", "1")
    assert code == 0 and "已经批准过了" in out and "没有做任何改动" in out and "send-now 1" in out
    for _ in range(2):
        await cli("run")
    push = await cli.push(1)
    assert push.state == "approved" and push.next_run_at == push.planned_at
    assert sandbox.calls("freepublish/submit") == []

    # "Send now" is the one way to go early: it says so, and asks first.
    code, out, err = await cli("send-now", "1")
    assert code == 1 and "--yes" in err
    code, out, _ = await cli("send-now", "1", stdin="n\n")
    assert code == 1 and "什么也没做" in out and "立即发布" in out
    assert (await cli.push(1)).state == "approved"
    code, out, _ = await cli("send-now", "1", stdin="y\n")
    assert code == 0 and "将立即发布" in out and f"原定 {at}（北京时间）" in out
    await cli("run")
    await sandbox.settle()
    assert len(sandbox.calls("freepublish/submit")) == 1


async def test_approving_early_or_retrying_does_not_send_before_the_planned_time(cli, sandbox):
    at = two_days_ahead()
    # Approved before it was even drafted: drafted, then it waits for its time.
    await cli("create", "--articles", "1", "--at", at)
    code, out, _ = await cli("approve", "1")
    assert code == 0 and "草稿生成后" in out
    await cli("run")
    assert (await cli.push(1)).state == "approved"
    # A push that failed while drafting, two days ahead, and is retried: it keeps its time.
    await cli("create", "--articles", "2", "--at", two_days_ahead(12))
    await cli("approve", "2")
    sandbox.platform.add_fault("draft/add", errcode=45002)
    await cli("run")
    assert (await cli.push(2)).state == "failed"
    code, out, _ = await cli("retry", "2")
    assert code == 0 and two_days_ahead(12) in out
    await cli("run")
    assert (await cli.push(2)).state == "approved"
    assert sandbox.calls("freepublish/submit") == []


async def test_a_missed_push_is_sent_only_by_send_now_or_given_a_new_time(cli, sandbox):
    cli.reconfigure(auto_approve=True, grace_minutes=0)
    at = two_days_ahead()
    await cli("create", "--articles", "1", "--at", at)
    await cli("run")
    async with bot_env(sandbox, cli.make_settings, webhook=False) as env:  # the process was down
        async with env.services.db.begin() as s:
            push = await s.get(Push, 1)
            push.planned_at = push.next_run_at = env.services.clock.now() - timedelta(hours=2)
    await cli("run")
    assert (await cli.push(1)).state == "overdue"
    code, _, err = await cli("approve", "1")
    assert code == 1 and "send-now 1" in err and "--next-slot" in err
    code, out, _ = await cli("edit", "1", "--next-slot")
    assert code == 0 and "重新等待发送" in out
    push = await cli.push(1)
    assert push.state == "approved" and push.planned_at > datetime.now(push.planned_at.tzinfo)
    assert sandbox.calls("freepublish/submit") == []


# --- 2. previews -----------------------------------------------------------------------------------


async def test_a_failed_preview_is_reported_per_recipient_and_can_be_sent_again(cli, sandbox):
    cli.reconfigure(editors=[STRANGER])  # the only editor does not follow the account
    await cli("create", "--articles", "1", "--at", two_days_ahead(), "--preview")
    await cli("run")
    code, out, _ = await cli("list")
    assert "已发送预览" not in out and "预览：1 人没收到" in out
    code, out, _ = await cli("show", "1")
    assert f"没能发到 {STRANGER}" in out and "不是本公众号的关注者" in out and "40003" in out
    async with bot_env(sandbox, cli.make_settings, webhook=False) as env:
        async with env.services.db() as s:
            (note,) = (await s.scalars(select(Notification).where(Notification.push_id == 1))).all()
    assert note.kind == "approval" and "预览没能发到您的微信" in note.text and "预览已发" not in note.text
    assert "push preview 1" in note.text

    # (Re)send: to someone named, to the editors, and by `edit --preview` — each says what happened.
    code, out, _ = await cli("preview", "1", "--to", EDITOR)
    assert code == 0 and f"已发到 {EDITOR}" in out
    assert [p["openid"] for p in sandbox.platform.state["previews"]] == [EDITOR]
    code, out, _ = await cli("preview", "1")
    assert code == 1 and f"没能发到 {STRANGER}" in out
    cli.reconfigure(editors=[EDITOR, STRANGER])
    code, out, _ = await cli("edit", "1", "--preview")
    assert code == 1 and "已修改" in out and f"已发到 {EDITOR}" in out and f"没能发到 {STRANGER}" in out
    assert len(sandbox.platform.state["previews"]) == 2
    code, out, _ = await cli("list", "--json")
    (row,) = json.loads(out)
    assert {p["openid"]: p["status"] for p in row["previews"]} == {EDITOR: "sent", STRANGER: "failed"}


async def test_preview_before_the_draft_exists_says_when_it_will_be_sent(cli, sandbox):
    await cli("create", "--articles", "1", "--at", two_days_ahead())
    code, out, _ = await cli("preview", "1")
    assert code == 0 and "草稿还没生成" in out
    await cli("run")
    assert [p["openid"] for p in sandbox.platform.state["previews"]] == [EDITOR]


# --- 4. what to do next ----------------------------------------------------------------------------


async def test_failure_reasons_say_what_happened_and_what_to_do(cli, sandbox):
    cli.reconfigure(auto_approve=True)
    await cli("create", "--articles", "1", "--at", two_days_ahead())
    await cli("run")
    await cli("send-now", "1", "--yes")
    sandbox.platform.add_fault("freepublish/submit", errcode=48001)
    await cli("run")
    code, out, _ = await cli("list")
    assert "失败" in out and "公众号没有使用这个接口的权限" in out and "48001" in out and "请在公众平台确认" in out
    assert "需要您处理的通知" in out and "push ack" in out


async def test_the_broadcast_limit_names_the_next_possible_time(cli, sandbox):
    at = two_days_ahead()
    await cli("create", "--articles", "1", "--at", at, "--broadcast")
    code, _, err = await cli("create", "--articles", "2", "--at", two_days_ahead(22), "--broadcast")
    day_after = (datetime.strptime(at, "%Y-%m-%d %H:%M") + timedelta(days=1)).strftime("%Y-%m-%d 08:00")
    assert code == 1 and "每天只能群发 1 次" in err and "#1" in err
    assert f"最早可以在 {day_after}（北京时间）" in err


async def test_withdraw_asks_first_and_withdrawn_articles_are_no_longer_published(cli, sandbox):
    cli.reconfigure(auto_approve=True)
    await cli("create", "--articles", "1,2", "--at", two_days_ahead())
    await cli("create", "--articles", "3", "--at", two_days_ahead(12))
    await cli("run")
    await cli("send-now", "1", "--yes")
    for _ in range(20):  # no webhook here: the outcome is polled
        await cli("run")
        await sandbox.settle()
        if (await cli.push(1)).state == "done":
            break
        await asyncio.sleep(0.2)
    assert (await cli.push(1)).state == "done"
    code, out, _ = await cli("list")
    lines = [line for line in out.splitlines() if line.startswith("#")]
    assert lines[0].startswith("#2") and lines[1].startswith("#1")  # newest first
    assert "发出" in lines[1] and "发出" not in lines[0]  # when it went out, not only when planned
    assert "时间为北京时间" in out

    code, _, err = await cli("withdraw", "1")
    assert code == 1 and "--yes" in err
    code, out, _ = await cli("withdraw", "1", stdin="\n")
    assert code == 1 and "不能恢复" in out and "什么也没做" in out
    assert (await cli.push(1)).state == "done" and sandbox.calls("freepublish/delete") == []
    code, out, _ = await cli("withdraw", "1", "--yes")
    assert code == 0 and "已从微信撤回" in out
    async with bot_env(sandbox, cli.make_settings, webhook=False) as env:
        async with env.services.db() as s:
            arts = (await s.scalars(select(Article).where(Article.id.in_([1, 2])))).all()
    assert {(a.status, a.wechat_url) for a in arts} == {("withdrawn", None)}
    code, out, _ = await cli("show", "1")
    assert "已撤回" in out and "/s/" not in out  # no dead links offered


# --- 8, 9. Chinese, one register, no internals, labelled times ------------------------------------

ACTIONS = ["create", "edit", "list", "show", "preview", "approve", "send-now", "cancel", "retry", "ack",
           "withdraw", "compose", "run"]
ENGLISH = ("usage:", "options", "positional arguments", "show this help", "freepublish", "tick_seconds",
           "claimed", "draft/add", "media_id", "mass/", "error:")


@pytest.mark.parametrize("action", [None, *ACTIONS])
def test_help_is_chinese_without_internals(action, capsys):
    with pytest.raises(SystemExit) as done:
        main(["push", *([action] if action else []), "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：")
    for word in ENGLISH:
        assert word not in out.lower(), (action, word)
    assert "你" not in out


def test_argument_errors_are_chinese(capsys):
    for argv, expected in ((["approve", "x"], "无效的值"), (["nope"], "无效的选项"), ([], "缺少必需的参数")):
        with pytest.raises(SystemExit):
            main(["push", *argv])
        err = capsys.readouterr().err
        assert expected in err and "error" not in err and "usage" not in err


def test_every_sentence_says_you_politely():
    from scheduler import texts

    strings = [v for v in vars(texts).values() if isinstance(v, str)]
    strings += [s for v in vars(texts).values() if isinstance(v, dict) for s in v.values() if isinstance(s, str)]
    strings += [s for pair in texts.ERRCODES.values() for s in pair]
    assert len(strings) > 150
    assert [s for s in strings if "你" in s] == []
