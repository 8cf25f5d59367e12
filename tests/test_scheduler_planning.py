"""Slots, the next free slot with the broadcast quotas and pins, times in the scheduler's zone, missed
pushes (grace), auto-drafting, and the `push` CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.clock import FakeClock
from main import main
from scheduler import compose, editing, planning
from store.models.content import Article
from store.models.pushes import Push
from tests.scheduler_procs import to_toml
from tests.scheduler_support import bot_env

SH = ZoneInfo("Asia/Shanghai")
# Monday 2026-01-05 10:00 in Shanghai.
MONDAY_10 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
SLOTS = {"slots": {"mon": ["08:00", "20:00"], "wed": ["20:00"]}}


def local(dt: datetime) -> str:
    return dt.astimezone(SH).strftime("%a %Y-%m-%d %H:%M")


async def test_next_free_slot_respects_pins_and_the_daily_broadcast_quota(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, scheduler=SLOTS, clock=FakeClock(MONDAY_10), webhook=False) as env:
        s = env.settings
        ids = await env.articles(6, images=0)
        async with env.services.db() as db:
            assert local(await planning.next_free_slot(db, s, kind="publish", after=MONDAY_10)) == "Mon 2026-01-05 20:00"
        first = await editing.create(env.services, editing.PushSpec([ids[0]], kind="broadcast"))
        assert local(first.planned_at) == "Mon 2026-01-05 20:00" and not first.pinned
        # The 20:00 slot is taken; a publish goes to the next slot (Wednesday: Tuesday has none).
        publish = await editing.create(env.services, editing.PushSpec([ids[1]]))
        assert local(publish.planned_at) == "Wed 2026-01-07 20:00"
        # A subscription account broadcasts once a day: Monday is used, Wednesday's slot is taken,
        # so the next broadcast goes to next Monday's morning slot.
        second = await editing.create(env.services, editing.PushSpec([ids[2]], kind="broadcast"))
        assert local(second.planned_at) == "Mon 2026-01-12 08:00"
        # A pin to any time; then a pinned broadcast the same day as another is refused.
        pinned = await editing.create(env.services, editing.PushSpec(
            [ids[3]], at=planning.parse_local("2026-01-06 09:30", s)))
        assert pinned.pinned and local(pinned.planned_at) == "Tue 2026-01-06 09:30"
        with pytest.raises(planning.PlanningError, match="每天只能群发 1 次"):
            await editing.create(env.services, editing.PushSpec(
                [ids[4]], kind="broadcast", at=planning.parse_local("2026-01-05 22:00", s)))
        with pytest.raises(planning.PlanningError, match="已经过去"):
            await editing.create(env.services, editing.PushSpec([ids[4]], at=planning.parse_local("2026-01-05 09:00", s)))
        # Cancelling frees the slot.
        await editing.cancel(env.services, first.id)
        again = await editing.create(env.services, editing.PushSpec([ids[5]], kind="broadcast"))
        assert local(again.planned_at) == "Mon 2026-01-05 20:00"


async def test_service_account_has_four_broadcasts_a_month(sandbox, make_settings):
    every_day = {"slots": {d: ["20:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    clock = FakeClock(datetime(2026, 1, 27, 2, 0, tzinfo=UTC))
    async with bot_env(sandbox, make_settings, scheduler=every_day, clock=clock, webhook=False,
                       wechat={"account_type": "service"}) as env:
        ids = await env.articles(5, images=0)
        days = [local((await editing.create(env.services, editing.PushSpec([i], kind="broadcast"))).planned_at)
                for i in ids]
        assert days == ["Tue 2026-01-27 20:00", "Wed 2026-01-28 20:00", "Thu 2026-01-29 20:00",
                        "Fri 2026-01-30 20:00", "Sun 2026-02-01 20:00"]  # the 5th waits for February


async def test_time_in_the_scheduler_zone():
    from tests.conftest import base_config

    settings = __import__("core.config", fromlist=["parse_settings"]).parse_settings(
        base_config(__import__("pathlib").Path("/tmp")), environ={})
    at = planning.parse_local("2026-12-01 20:00", settings)
    assert at.astimezone(UTC) == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert planning.show(at, settings) == "2026-12-01 20:00（北京时间）"  # every time shown says its zone
    assert planning.show(at, settings, label=False) == "2026-12-01 20:00"  # under a heading that does
    with pytest.raises(planning.PlanningError, match="年-月-日 时:分"):
        planning.parse_local("tomorrow", settings)


async def test_missed_push_goes_late_within_grace_else_waits_for_an_editor(sandbox, make_settings):
    clock = FakeClock(MONDAY_10)
    async with bot_env(sandbox, make_settings, clock=clock, webhook=False,
                       scheduler={"auto_approve": True, "grace_minutes": 30}) as env:
        ids = await env.articles(2, images=0)
        late = await editing.create(env.services, editing.PushSpec([ids[0]], at=MONDAY_10 + timedelta(minutes=5)))
        missed = await editing.create(env.services, editing.PushSpec([ids[1]], at=MONDAY_10 + timedelta(minutes=6)))
        await env.runner.tick()  # drafted and approved ahead of time
        clock.advance(20 * 60)  # down for 20 minutes: 15 and 14 minutes late, within the grace
        async with env.services.db.begin() as s:  # ... but the second one was missed by an hour
            (await s.get(Push, missed.id)).planned_at = MONDAY_10 - timedelta(hours=1)
        await env.runner.tick()
        assert (await env.push(late.id)).state == "submitted"
        assert (await env.push(missed.id)).state == "overdue"
        assert sandbox.platform.state["publishes"] and len(sandbox.platform.state["publishes"]) == 1
        with pytest.raises(editing.EditError, match="send-now"):
            await editing.approve(env.services, missed.id)  # an approval does not revive it...
        await editing.send_now(env.services, missed.id)  # ... an explicit "send now" does
        await env.runner.tick()
        assert (await env.push(missed.id)).state == "submitted"


async def test_auto_drafting_newest_first_with_tags(sandbox, make_settings):
    async with bot_env(sandbox, make_settings, webhook=False,
                       scheduler={"compose_max_articles": 2, "compose_tags": ["通知公告"]}) as env:
        ids = await env.articles(2, images=0, tags=["新闻动态"])
        tagged = await env.articles(3, images=0, start=5, tags=["通知公告"])
        await env.articles(1, images=0, start=9, tags=["通知公告"], status="imported")
        push = await compose.compose(env.services)
        assert [link.article_id for link in push.articles] == [tagged[2], tagged[1]]  # newest first
        assert push.approved_by is None  # waits for an editor without auto_approve
        push2 = await compose.compose(env.services)
        assert [link.article_id for link in push2.articles] == [tagged[0]]
        assert await compose.compose(env.services) is None
        async with env.services.db() as s:
            assert (await s.get(Article, ids[0])).status == "ready"


def run_cli(tmp_path, settings_cfg: dict, *argv: str, capsys) -> tuple[int, str, str]:
    path = tmp_path / "cli.toml"
    path.write_text(to_toml(settings_cfg), encoding="utf-8")
    code = main(["push", *argv, "--config", str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_cli(sandbox, make_settings, tmp_path, capsys):
    import asyncio

    from tests.conftest import base_config

    cfg = base_config(tmp_path, wechat={"api_base_url": sandbox.url},
                      scheduler={"slots": {"mon": ["20:00"], "thu": ["20:00"]}})
    async with bot_env(sandbox, make_settings, webhook=False) as env:
        ids = await env.articles(9, images=1)
        long_id = (await env.articles(1, images=1, shared_image=False, start=20, body_chars=30_000))[0]

    def cli(*argv):
        return asyncio.to_thread(run_cli, tmp_path, cfg, *argv, capsys=capsys)

    code, out, err = await cli("create", "--articles", "3,1,2", "--at", "2099-12-01 20:00", "--broadcast", "--preview")
    assert code == 0 and "#1" in out and "群发" in out and "2099-12-01 20:00" in out
    for argv, message in [
        (("create", "--articles", "1,x"), "文章编号不对"),
        (("create", "--articles", ",".join(map(str, ids))), "最多 8 篇"),
        (("create", "--articles", "999"), "找不到文章：999"),
        (("create", "--articles", "1"), "已在另一个推送里"),
        (("create", "--articles", "4", "--at", "2020-01-01 08:00"), "已经过去"),
        (("create", "--articles", "4", "--at", "next week"), "时间格式不对"),
        (("create", "--articles", str(long_id)), "超过公众号 20,000 字符"),
        (("create", "--articles", "4", "--tag", "会员"), "--tag 只能和 --broadcast"),
        (("show", "77"), "没有编号为 77 的推送"),
        (("retry", "1"), "不能重试"),
        (("withdraw", "1"), "不能撤回"),
    ]:
        code, out, err = await cli(*argv)
        assert code == 1 and message in err, (argv, out, err)

    code, out, _ = await cli("create", "--articles", "4,5", "--next-slot")
    assert code == 0 and "发布" in out
    code, out, _ = await cli("list", "--json")
    rows = json.loads(out)
    # Newest first, as the help says (not by planned time: #1 is planned for 2099).
    assert [(r["id"], r["kind"], r["state"], r["articles"]) for r in rows] == [
        (2, "publish", "planned", [4, 5]), (1, "broadcast", "planned", [3, 1, 2])]
    code, out, _ = await cli("approve", "2")
    assert code == 0 and "已批准" in out
    code, out, _ = await cli("cancel", "1")
    assert code == 0
    code, out, _ = await cli("run")
    assert code == 0
    code, out, _ = await cli("show", "2")
    assert "时间线（北京时间）" in out and "已生成微信草稿" in out and "批准（命令行）" in out
    assert "draft/add" not in out and "media_id" not in out  # no internals in what editors read
    code, out, _ = await cli("show", "1")
    assert "已取消" in out
    code, out, _ = await cli("compose")
    assert code == 0 and "已自动组稿推送 #3" in out
    code, out, _ = await cli("list")
    assert "#3" in out
    async with bot_env(sandbox, make_settings, webhook=False) as env2:
        async with env2.services.db() as s:
            assert (await s.scalar(select(Push).where(Push.id == 1))).state == "cancelled"
