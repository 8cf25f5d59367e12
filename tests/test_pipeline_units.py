"""scheduler/pipeline.py step by step, without the local platform: a migrated SQLite database, a fake
clock that only moves when told, and a fake WeChat client that answers, fails or changes the row
meanwhile as each test says. Each test asserts what the step leaves behind: the state, the times
and fields written, the timeline lines, the notices and the WeChat calls made (and not made)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import shutil
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app import open_services
from core.clock import FakeClock
from core.services import Services
from scheduler import editing, planning, states, texts
from scheduler import pipeline as pipeline_module
from scheduler.drafts import ArticleMissing
from scheduler.pipeline import Pipeline
from store.content.render import ArticleTooLong
from store.migrate import upgrade
from store.models.content import Article
from store.models.pushes import Notification, Push, PushArticle, PushEvent, PushPreview
from store.shared import MemoryState
from tests.scheduler_support import EVERY_DAY
from wechat.errors import (
    ContentRejected,
    DuplicateClientMsgId,
    OutcomeUnknown,
    PermissionDenied,
    QuotaExceeded,
    SendTooFast,
    TokenInvalid,
    TransientError,
    WeChatError,
)

EDITOR, OTHER = "o_editor_a", "o_editor_b"
WORKER = "w1"
START = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing


class FakeApi:
    """The WeChat calls the pipeline makes: each recorded as (name, args); `errors[name]` are raised
    one per call, `hooks[name]` run before answering (an editor acting meanwhile)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.errors: dict[str, list[Exception]] = {}
        self.hooks: dict = {}
        self.answers: dict = {
            "draft_add": "M_NEW", "publish_submit": "PUB_1", "tags_get": {"tags": []},
            "mass_sendall": {"msg_id": 1001, "msg_data_id": 2002}, "publish_get": {"publish_status": 1},
            "mass_get": {"msg_status": "SENDING"}, "draft_delete": {}, "mass_preview": {},
            "draft_get": {"news_item": [{"title": "文章1", "content": "<p>正文</p>", "thumb_media_id": "T1"}]},
            "upload_news": "NEWS_P",
        }

    async def _call(self, name: str, *args, **kwargs):
        self.calls.append((name, *args) + ((kwargs,) if kwargs else ()))
        if name in self.hooks:
            await self.hooks.pop(name)()
        if self.errors.get(name):
            raise self.errors[name].pop(0)
        return self.answers[name]

    def named(self, name: str) -> list[tuple]:
        return [c[1:] for c in self.calls if c[0] == name]

    async def draft_add(self, articles):
        return await self._call("draft_add", articles)

    async def draft_delete(self, media_id):
        return await self._call("draft_delete", media_id)

    async def tags_get(self):
        return await self._call("tags_get")

    async def publish_submit(self, media_id):
        return await self._call("publish_submit", media_id)

    async def mass_sendall(self, media_id, **kwargs):
        return await self._call("mass_sendall", media_id, **kwargs)

    async def mass_preview(self, openid, media_id):
        return await self._call("mass_preview", openid, media_id)

    async def draft_get(self, media_id):
        return await self._call("draft_get", media_id)

    async def upload_news(self, articles):
        return await self._call("upload_news", articles)

    async def publish_get(self, publish_id):
        return await self._call("publish_get", publish_id)

    async def mass_get(self, msg_id):
        return await self._call("mass_get", msg_id)


@dataclass
class World:
    services: Services
    api: FakeApi
    pipeline: Pipeline

    @property
    def clock(self) -> FakeClock:
        return self.services.clock

    @property
    def now(self) -> datetime:
        return self.services.clock.now()

    async def push(self, push_id: int) -> Push:
        return await self.pipeline.load(push_id)

    async def add(self, state: str = "planned", *, kind: str = "publish", **fields) -> Push:
        """A push of one article, due now, leased to this pipeline's worker."""
        now = self.now
        values = dict(kind=kind, state=state, planned_at=now, next_run_at=now, revision=1, attempt=1, polls=0,
                      retries=0, review="draft", claimed_by=WORKER, claim_until=now + timedelta(hours=1),
                      created_at=now, updated_at=now)
        values.update(fields)
        async with self.services.db.begin() as s:
            n = await s.scalar(select(Article.id).order_by(Article.id.desc()).limit(1)) or 0
            art = Article(title=f"文章{n + 1}", source_url=f"https://www.example.org/{n + 1}", body_html="<p>正文</p>",
                          body_text="正文", status="queued", content_hash=f"h{n + 1}",
                          published_at=date(2026, 1, 1))
            s.add(art)
            await s.flush()
            push = Push(**values)
            push.articles = [PushArticle(article_id=art.id, position=0)]
            s.add(push)
            await s.flush()
            push_id = push.id
        return await self.push(push_id)

    async def set(self, push_id: int, **values) -> None:
        async with self.services.db.begin() as s:
            await s.execute(update(Push).where(Push.id == push_id).values(**values))

    async def timeline(self, push_id: int) -> list[tuple]:
        async with self.services.db() as s:
            rows = await s.scalars(select(PushEvent).where(PushEvent.push_id == push_id).order_by(PushEvent.id))
            return [(e.kind, e.state, e.detail, e.data) for e in rows]

    async def notices(self, push_id: int) -> list[tuple[str, str, str]]:
        async with self.services.db() as s:
            rows = await s.scalars(select(Notification).where(Notification.push_id == push_id)
                                   .order_by(Notification.id))
            return [(n.openid, n.kind, n.text) for n in rows]

    async def previews(self, push_id: int) -> list[tuple]:
        async with self.services.db() as s:
            rows = await s.scalars(select(PushPreview).where(PushPreview.push_id == push_id).order_by(PushPreview.id))
            return [(p.revision, p.openid, p.status, p.by) for p in rows]


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    """One migrated database for the module, copied for each test (migrating takes longer than most tests)."""
    path = tmp_path_factory.mktemp("pipeline_units") / "template.db"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, upgrade(f"sqlite+aiosqlite:///{path}")).result()
    return path


@pytest.fixture
def world(template_db, tmp_path, make_settings):
    """`async with world(scheduler={…}, wechat={…}) as w:` — the pipeline of worker w1."""
    db = tmp_path / "units.db"
    shutil.copy(template_db, db)
    migrated = f"sqlite+aiosqlite:///{db}"

    @asynccontextmanager
    async def make(scheduler: dict | None = None, editors: list[str] | None = None, **sections):
        settings = make_settings(
            database={"url": migrated},
            scheduler={"slots": EVERY_DAY, "poll_seconds": 90, "retry_seconds": 30, "grace_minutes": 60,
                       "claim_seconds": 120, **(scheduler or {})},
            editors={"openids": [EDITOR, OTHER] if editors is None else editors}, **sections)
        clock = FakeClock(START)
        async with open_services(settings, clock, shared=MemoryState(clock)) as services:
            api = FakeApi()
            services.api = api
            yield World(services, api, Pipeline(services, WORKER))

    return make


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 1, day, hour, 0, tzinfo=planning.ZoneInfo("Asia/Shanghai"))


def logged(caplog, message: str) -> list:
    """The push ids (the `extra` of core/logs.about) of the log records saying `message`."""
    return [getattr(r, "push_id", None) for r in caplog.records if r.getMessage() == message]


async def paused(coro, seconds: float = 0.3) -> bool:
    """Whether the step stopped at a checkpoint (did not finish within `seconds`)."""
    try:
        await asyncio.wait_for(coro, seconds)
    except TimeoutError:
        return True
    return False


# --- persistence -------------------------------------------------------------------------------------


async def test_load_gives_the_push_asked_for_with_its_articles(world):
    async with world() as w:
        first = await w.add()
        second = await w.add()
        got = await w.pipeline.load(second.id)
        assert got.id == second.id != first.id
        assert [a.position for a in got.articles] == [0] and got.articles[0].article_id != first.articles[0].article_id
        assert await w.pipeline.load(second.id + 100) is None


async def test_save_writes_as_this_worker_renews_the_lease_and_names_the_line(world):
    async with world() as w:
        push = await w.add()
        w.clock.advance(10)
        await w.pipeline.save(push, "preparing")
        await w.pipeline.save(push, detail="一行说明")
        await w.pipeline.save(push, kind="note", detail="一条备注")
        await w.pipeline.record(push, "微信答复", {"errcode": 0})
        await w.pipeline.record(push, "核对", kind="note")
        row = await w.push(push.id)
        assert (row.state, row.claimed_by) == ("preparing", WORKER)
        assert row.claim_until == START + timedelta(seconds=10 + 120)
        assert await w.timeline(push.id) == [
            ("state", "preparing", f"{texts.STATE['planned']} → {texts.STATE['preparing']}", None),
            ("state", "preparing", "一行说明", None),
            ("note", "preparing", "一条备注", None),
            ("wechat", "preparing", "微信答复", {"errcode": 0}),
            ("note", "preparing", "核对", None),
        ]
        # A state change is a line of kind "state" whatever `kind` says.
        await w.pipeline.save(push, "drafted", kind="wechat", detail="生成了")
        assert (await w.timeline(push.id))[-1] == ("state", "drafted", "生成了", None)


async def test_save_as_this_worker_is_refused_once_another_holds_the_lease_but_not_unclaimed(world):
    async with world() as w:
        push = await w.add()
        await w.set(push.id, claimed_by="w2")
        push = await w.push(push.id)
        with pytest.raises(states.Stale):
            await w.pipeline.save(push, detail="不该写入")
        await w.pipeline.save(push, claimed=False, detail="任务结束事件")
        row = await w.push(push.id)
        assert row.claimed_by == "w2"
        assert [d for _, _, d, _ in await w.timeline(push.id)] == ["任务结束事件"]


async def test_a_checkpoint_named_in_pause_at_stops_there_for_good_and_says_so(world, caplog):
    async with world(scheduler={"pause_at": ["before:draft_add"]}) as w:
        push = await w.add()
        assert not await paused(w.pipeline.checkpoint("before:uploads", push))
        with caplog.at_level(logging.WARNING, logger="scheduler.pipeline"):
            assert await paused(w.pipeline.checkpoint("before:draft_add", push))
        # The crash tests wait for this line before killing the process.
        assert logged(caplog, f"pipeline paused at before:draft_add (push {push.id})") == [push.id]


@pytest.mark.parametrize(("point", "state", "calls"), [
    ("before:uploads", "preparing", []),
    ("before:draft_add", "preparing", ["build_draft"]),
    ("after:draft_add", "preparing", ["build_draft", "draft_add"]),
])
async def test_prepare_stops_at_each_checkpoint(world, monkeypatch, point, state, calls):
    async with world(scheduler={"pause_at": [point]}) as w:
        made = []

        async def build_draft(services, push):
            made.append("build_draft")
            return [{"title": "文章"}]

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add()
        assert await paused(w.pipeline.prepare(push))
        assert made + [c[0] for c in w.api.calls] == calls
        assert (await w.push(push.id)).state == state


# --- the driver -------------------------------------------------------------------------------------


async def test_advance_runs_only_due_pushes_with_a_step(world, monkeypatch):
    async with world(scheduler={"auto_approve": True}) as w:
        async def build_draft(services, push):
            return [{"title": "文章"}]

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        assert await w.pipeline.advance(12345) is None
        later = await w.add(next_run_at=START + timedelta(seconds=1))
        waiting = await w.add(next_run_at=None)
        finished = await w.add("done", next_run_at=START)
        for p in (later, waiting, finished):
            got = await w.pipeline.advance(p.id)
            assert (got.id, got.state, got.next_run_at) == (p.id, p.state, p.next_run_at)
        assert w.api.calls == []
        # Due exactly now: planned → preparing → drafted → approved, then it waits for planned_at.
        due = await w.add(planned_at=START + timedelta(hours=2))
        got = await w.pipeline.advance(due.id)
        assert (got.id, got.state, got.next_run_at) == (due.id, "approved", START + timedelta(hours=2))
        assert [c[0] for c in w.api.calls] == ["draft_add"]


async def test_advance_runs_at_most_max_steps(world, monkeypatch):
    # A daily quota while drafting, with no slot to move to: the push stays due now, and each step
    # tries again; the driver stops after max_steps.
    async with world(scheduler={"slots": {}}) as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add()
        w.api.errors["draft_add"] = [QuotaExceeded(45009, "quota", "draft/add") for _ in range(20)]
        await w.pipeline.advance(push.id)
        assert len(w.api.named("draft_add")) == 12
        await w.pipeline.advance(push.id, max_steps=3)
        assert len(w.api.named("draft_add")) == 15


async def test_an_edit_made_during_a_step_wins_and_advance_returns_the_row_as_it_is(world, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="scheduler.pipeline")
    async with world() as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add("preparing")

        async def edited():
            await w.set(push.id, revision=2)

        w.api.hooks["draft_add"] = edited
        got = await w.pipeline.advance(push.id)
        assert (got.state, got.revision, got.media_id) == ("preparing", 2, None)
        assert (await w.push(push.id)).media_id is None
        assert logged(caplog, f"push {push.id} changed under us; leaving it") == [push.id]


async def test_an_error_no_step_handled_while_waiting_delays_the_next_look(world):
    async with world() as w:
        push = await w.add("submitted", publish_id="PUB_9", retries=2)
        w.api.errors["publish_get"] = [TransientError(-1, "busy", "freepublish/get")]
        got = await w.pipeline.advance(push.id)
        # 30 s doubled twice: 120 s.
        assert (got.state, got.retries, got.next_run_at) == ("submitted", 3, START + timedelta(seconds=120))
        row = await w.push(push.id)
        assert (row.retries, row.next_run_at) == (3, START + timedelta(seconds=120))
        assert await w.timeline(push.id) == [
            ("wechat", "submitted", "查询结果没有成功：微信系统繁忙（-1）", {"errcode": -1, "endpoint": "freepublish/get"}),
        ]


@pytest.mark.parametrize(("account", "code", "back"), [
    ("subscription", 45009, local(6, 0)),  # the daily API quota: at the next local midnight
    ("service", 45028, local(31, 0) + timedelta(days=1)),  # a service account's broadcasts: next month
])
async def test_a_quota_error_while_waiting_looks_again_when_the_quota_is_back(world, account, code, back):
    async with world(wechat={"account_type": account}) as w:
        push = await w.add("confirming", kind="broadcast", msg_id="1001", submitted_at=START)
        w.api.errors["mass_get"] = [QuotaExceeded(code, "quota", "message/mass/get")]
        await w.pipeline.advance(push.id)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("confirming", 1, back)
        assert (await w.timeline(push.id))[-1][2] == f"查询结果没有成功：{texts.cause(code)}"


async def test_an_unknown_error_while_waiting_is_told_in_wechats_words(world):
    async with world() as w:
        push = await w.add("submitted", publish_id="PUB_9")
        w.api.errors["publish_get"] = [WeChatError(61450, "system error", "freepublish/get")]
        await w.pipeline.advance(push.id)
        assert (await w.timeline(push.id))[-1][2:] == (
            "查询结果没有成功：微信拒绝了请求（system error）（61450）", {"errcode": 61450, "endpoint": "freepublish/get"})
        assert (await w.push(push.id)).state == "submitted"


async def test_an_edit_made_while_a_step_error_is_handled_wins(world):
    async with world() as w:
        push = await w.add("submitted", publish_id="PUB_9")

        async def edited():
            await w.set(push.id, revision=5)

        w.api.hooks["publish_get"] = edited
        w.api.errors["publish_get"] = [TransientError(-1, "busy", "freepublish/get")]
        got = await w.pipeline.advance(push.id)
        assert (got.revision, got.retries, got.next_run_at) == (5, 0, START)


async def test_a_step_error_before_submitting_is_handled_by_its_class(world):
    async with world() as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        w.api.errors["mass_preview"] = [PermissionDenied(48001, "api unauthorized", "message/mass/preview")]
        got = await w.pipeline.advance(push.id)
        assert (got.state, got.error_code) == ("failed", 48001)
        assert got.error_reason == texts.explain(48001)
        lines = await w.timeline(push.id)
        assert ("wechat", "drafted", "发送预览没有成功：公众号没有使用这个接口的权限（48001）",
                {"errcode": 48001, "endpoint": "message/mass/preview", "errmsg": "api unauthorized"}) in lines


# --- planned / preparing ----------------------------------------------------------------------------


async def test_prepare_drafts_and_says_so(world, monkeypatch):
    async with world() as w:
        seen = []

        async def build_draft(services, push):
            row = await w.push(push.id)
            seen.append((services is w.services, row.state, row.next_run_at))
            return [{"title": "文章1"}]

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add(retries=3)
        w.clock.advance(5)

        async def slow():  # draft/add answers 2 s later: the next step is due from then
            w.clock.advance(2)

        w.api.hooks["draft_add"] = slow
        await w.pipeline.prepare(push)
        assert seen == [(True, "preparing", START + timedelta(seconds=5))]
        assert w.api.calls == [("draft_add", [{"title": "文章1"}])]
        row = await w.push(push.id)
        assert (row.state, row.media_id, row.retries, row.next_run_at) == ("drafted", "M_NEW", 0, START + timedelta(seconds=7))
        assert await w.timeline(push.id) == [
            ("state", "preparing", f"{texts.STATE['planned']} → {texts.STATE['preparing']}", None),
            ("state", "drafted", texts.EV_DRAFTED, {"media_id": "M_NEW"}),
        ]


async def test_prepare_deletes_the_draft_of_an_older_revision_first(world, monkeypatch):
    async with world() as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add("preparing", media_id="M_OLD", news_media_id="N_OLD")
        await w.pipeline.prepare(push)
        assert [c[0:2] for c in w.api.calls] == [("draft_delete", "M_OLD"), ("draft_add", [])]
        row = await w.push(push.id)
        assert (row.media_id, row.news_media_id) == ("M_NEW", None)
        assert (await w.timeline(push.id))[0] == ("wechat", "preparing", texts.EV_OLD_DRAFT_DELETED, {"media_id": "M_OLD"})


@pytest.mark.parametrize(("error", "code", "reason"), [
    (ArticleMissing(7), None, "文章 #7 已被删除"),
    (ArticleTooLong("正文太长，请删减"), None, "正文太长，请删减"),
])
async def test_prepare_fails_when_an_article_must_change(world, monkeypatch, error, code, reason):
    async with world() as w:
        async def build_draft(services, push):
            raise error

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add()
        await w.pipeline.prepare(push)
        row = await w.push(push.id)
        assert (row.state, row.error_code, row.error_reason, row.next_run_at) == ("failed", code, reason, None)
        assert w.api.calls == []
        assert [k for _, k, _ in await w.notices(push.id)] == ["failed", "failed"]


async def test_prepare_backs_off_on_a_transient_error_of_the_uploads_or_draft_add(world, monkeypatch):
    async with world() as w:
        uploads = [TransientError(-1, "busy", "media/uploadimg")]

        async def build_draft(services, push):
            if uploads:
                raise uploads.pop()
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add("preparing", retries=1)
        await w.pipeline.prepare(push)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("preparing", 2, START + timedelta(seconds=60))
        assert (await w.timeline(push.id))[-1] == (
            "wechat", "preparing", "上传图片没有成功：微信系统繁忙（-1），60 秒后重试",
            {"errcode": -1, "endpoint": "media/uploadimg"})
        w.api.errors["draft_add"] = [TokenInvalid(40001, "invalid credential", "draft/add")]
        await w.pipeline.prepare(row)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("preparing", 3, START + timedelta(seconds=120))
        assert (await w.timeline(push.id))[-1][2].startswith("生成草稿没有成功：")
        assert (await w.timeline(push.id))[-1][2].endswith("（40001），120 秒后重试")


async def test_an_error_without_a_code_is_retried_and_a_refusal_fails(world, monkeypatch):
    async with world() as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        push = await w.add("preparing")
        w.api.errors["draft_add"] = [WeChatError(None, "connection reset", "draft/add")]
        await w.pipeline.prepare(push)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("preparing", 1, START + timedelta(seconds=30))
        w.api.errors["draft_add"] = [ContentRejected(45002, "content too long", "draft/add")]
        await w.pipeline.prepare(row)
        row = await w.push(push.id)
        assert (row.state, row.error_code, row.error_reason) == ("failed", 45002, texts.explain(45002))
        assert (await w.timeline(push.id))[-2] == (
            "wechat", "preparing", f"生成草稿没有成功：{texts.cause(45002)}",
            {"errcode": 45002, "endpoint": "draft/add", "errmsg": "content too long"})
        # A code we do not know: WeChat's own words are kept, in the line and in the reason.
        other = await w.add("preparing")
        w.api.errors["draft_add"] = [WeChatError(61450, "system error", "draft/add")]
        await w.pipeline.prepare(other)
        row = await w.push(other.id)
        assert (row.state, row.error_code, row.error_reason) == ("failed", 61450, texts.explain(61450, "system error"))
        assert "system error" in row.error_reason
        assert (await w.timeline(other.id))[-2][2] == "生成草稿没有成功：微信拒绝了请求（system error）（61450）"


async def test_a_label_for_a_call_without_one_is_the_calls_own_name(world):
    async with world() as w:
        push = await w.add("preparing")
        await w.pipeline._wechat_error(push, TransientError(-1, "busy", "x/y"), "某个调用")
        assert (await w.timeline(push.id))[-1][2] == "某个调用没有成功：微信系统繁忙（-1），30 秒后重试"


# --- cancelled -------------------------------------------------------------------------------------


async def test_cleanup_deletes_the_draft_or_notes_that_it_is_gone(world):
    async with world() as w:
        gone = await w.add("cancelled", media_id="M_GONE", news_media_id="N1")
        w.api.errors["draft_delete"] = [WeChatError(40099, "media gone", "draft/delete")]
        await w.pipeline.cleanup(gone)
        row = await w.push(gone.id)
        assert (row.state, row.media_id, row.news_media_id, row.next_run_at) == ("cancelled", None, None, None)
        assert await w.timeline(gone.id) == [
            ("wechat", "cancelled", "旧草稿没能删除（微信拒绝了请求（media gone）（40099）），可能已不在草稿箱",
             {"media_id": "M_GONE", "errcode": 40099}),
        ]
        nothing = await w.add("cancelled")
        await w.pipeline.cleanup(nothing)
        assert (await w.push(nothing.id)).next_run_at is None
        assert w.api.named("draft_delete") == [("M_GONE",)]


# --- drafted / previewed ---------------------------------------------------------------------------


async def test_after_drafting_the_preview_goes_to_each_editor_who_has_not_got_it(world):
    async with world() as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        async with w.services.db.begin() as s:
            s.add(PushPreview(push_id=push.id, revision=1, openid=EDITOR, status="sent", by="cli", created_at=START))
        w.clock.advance(3)
        await w.pipeline.after_draft(push)
        assert w.api.named("mass_preview") == [(OTHER, "M1")]
        row = await w.push(push.id)
        assert (row.state, row.next_run_at) == ("previewed", START + timedelta(seconds=3))
        assert (await w.timeline(push.id))[-1] == ("state", "previewed", f"预览：已发到 {OTHER}", None)
        assert (await w.previews(push.id))[-1] == (1, OTHER, "sent", "pipeline")


async def test_the_preview_summary_names_every_recipient_or_says_there_is_none(world):
    async with world() as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        await w.pipeline.after_draft(push)
        assert (await w.timeline(push.id))[-1][2] == f"预览：已发到 {EDITOR}；已发到 {OTHER}"
    async with world(editors=[]) as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        await w.pipeline.after_draft(push)
        assert (await w.timeline(push.id))[-1][2] == f"预览：{texts.PREVIEW_NOBODY}"


async def test_the_preview_step_stops_at_its_checkpoint(world):
    async with world(scheduler={"pause_at": ["before:preview"]}) as w:
        push = await w.add("drafted", media_id="M1", preview=True)
        assert await paused(w.pipeline.after_draft(push))
        assert w.api.calls == [] and (await w.push(push.id)).state == "drafted"


async def test_without_an_approval_the_push_waits_and_asks_the_editors(world):
    async with world() as w:
        await w.add("done")  # so that the push's id (2) is its revision too
        push = await w.add("previewed", media_id="M1", preview=True, revision=2)
        assert push.id == push.revision
        async with w.services.db.begin() as s:  # an older revision's preview: not of this draft
            s.add(PushPreview(push_id=push.id, revision=1, openid=EDITOR, status="sent", by="cli", created_at=START))
        await w.pipeline.after_draft(push)
        row = await w.push(push.id)
        assert (row.state, row.next_run_at, row.approved_by) == ("previewed", None, None)
        (a, b) = await w.notices(push.id)
        assert (a[0], a[1], b[0], b[1]) == (EDITOR, "approval", OTHER, "approval")
        assert texts.NOTICE_NO_PREVIEW in a[2] and texts.NOTICE_PREVIEW_YOURS not in a[2]
        assert w.api.calls == []


async def test_an_approval_given_while_the_pipeline_looked_wins(world):
    """The wait for an approval is written on the condition that nobody approved meanwhile."""
    async with world() as w:
        push = await w.add("drafted", media_id="M1")
        copy = await w.push(push.id)
        w.clock.advance(3)
        await editing.approve(w.services, push.id, by="editor")
        with pytest.raises(states.Stale):
            await w.pipeline.after_draft(copy)
        row = await w.push(push.id)
        assert (row.approved_by, row.next_run_at) == ("editor", START + timedelta(seconds=3))
        assert await w.notices(push.id) == []


async def test_auto_approve_approves_and_tells_when_it_will_go(world):
    async with world(scheduler={"auto_approve": True}) as w:
        push = await w.add("drafted", media_id="M1", planned_at=START + timedelta(hours=1))
        w.clock.advance(2)
        await w.pipeline.after_draft(push)
        row = await w.push(push.id)
        assert (row.state, row.approved_by, row.next_run_at) == ("approved", "auto_approve", START + timedelta(seconds=2))
        assert (await w.timeline(push.id))[-1] == ("state", "approved", "批准（自动批准）", None)
        assert [(o, k) for o, k, _ in await w.notices(push.id)] == [(EDITOR, "scheduled"), (OTHER, "scheduled")]


async def test_an_editors_approval_moves_on_without_a_second_line_or_notice(world):
    async with world() as w:
        push = await w.add("drafted", media_id="M1", approved_by="editor")
        await w.pipeline.after_draft(push)
        row = await w.push(push.id)
        assert (row.state, row.approved_by, row.next_run_at) == ("approved", "editor", START)
        assert await w.timeline(push.id) == [
            ("state", "approved", f"{texts.STATE['drafted']} → {texts.STATE['approved']}", None)]
        assert await w.notices(push.id) == []


async def test_an_imported_push_waits_for_an_editor_even_with_auto_approve(world):
    async with world(scheduler={"auto_approve": True}) as w:
        push = await w.add("drafted", media_id="M1", compose_key="import:2026-01-05")
        await w.pipeline.after_draft(push)
        row = await w.push(push.id)
        assert (row.state, row.approved_by, row.next_run_at) == ("drafted", None, None)


# --- approved → submitting --------------------------------------------------------------------------


async def test_an_approved_push_waits_for_its_planned_time(world):
    async with world() as w:
        at = START + timedelta(seconds=1)
        push = await w.add("approved", media_id="M1", planned_at=at, approved_by="editor")
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.next_run_at) == ("approved", at)
        assert w.api.calls == []
        # At the planned time exactly: it goes.
        w.clock.advance(1)
        await w.pipeline.submit(row)
        assert (await w.push(push.id)).state == "submitted"


async def test_send_now_given_while_the_pipeline_looked_wins(world):
    """The wait for the planned time is written on the condition that planned_at did not move."""
    async with world() as w:
        push = await w.add("approved", media_id="M1", planned_at=START + timedelta(days=1), approved_by="editor")
        copy = await w.push(push.id)
        w.clock.advance(3)
        await editing.send_now(w.services, push.id)
        with pytest.raises(states.Stale):
            await w.pipeline.submit(copy)
        row = await w.push(push.id)
        assert (row.planned_at, row.next_run_at) == (START + timedelta(seconds=3), START + timedelta(seconds=3))


async def test_late_within_grace_goes_and_later_is_overdue(world):
    async with world() as w:
        ok = await w.add("approved", media_id="M1", planned_at=START - timedelta(minutes=60))
        await w.pipeline.submit(ok)
        assert (await w.push(ok.id)).state == "submitted"
        late = await w.add("approved", media_id="M2", planned_at=START - timedelta(minutes=60, seconds=1))
        await w.pipeline.submit(late)
        row = await w.push(late.id)
        assert (row.state, row.next_run_at) == ("overdue", None)
        assert [(o, k) for o, k, _ in await w.notices(late.id)] == [(EDITOR, "overdue"), (OTHER, "overdue")]
        assert w.api.named("publish_submit") == [("M1",)]


async def test_an_unverified_account_fails_the_push_before_any_call(world):
    async with world(wechat={"verified": False}) as w:
        push = await w.add("approved", media_id="M1")
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.error_code, row.error_reason) == ("failed", None, texts.REASON_UNVERIFIED)
        assert w.api.calls == []


async def test_a_broadcast_to_a_tag_finds_the_tag_id_first(world):
    async with world() as w:
        w.api.answers["tags_get"] = {"tags": [{"id": 2, "name": "理事"}, {"id": "5", "name": "会员"}]}
        push = await w.add("approved", kind="broadcast", media_id="M1", tag_name="会员", send_ignore_reprint=True)
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.tag_id, row.state, row.clientmsgid) == (5, "submitted", f"push-{push.id}-1")
        assert w.api.named("mass_sendall") == [
            ("M1", {"clientmsgid": f"push-{push.id}-1", "send_ignore_reprint": 1, "tag_id": 5})]
        # Known already: not asked again; to all followers: no tag at all.
        known = await w.add("approved", kind="broadcast", media_id="M2", tag_name="会员", tag_id=5)
        everyone = await w.add("approved", kind="broadcast", media_id="M3", news_media_id="N3")
        publish = await w.add("approved", media_id="M4", tag_name="会员")
        for p in (known, everyone, publish):
            await w.pipeline.submit(p)
        assert len(w.api.named("tags_get")) == 1
        assert w.api.named("mass_sendall")[1:] == [
            ("M2", {"clientmsgid": f"push-{known.id}-1", "send_ignore_reprint": 0, "tag_id": 5}),
            ("N3", {"clientmsgid": f"push-{everyone.id}-1", "send_ignore_reprint": 0, "tag_id": None}),
        ]
        assert (await w.push(publish.id)).clientmsgid is None


@pytest.mark.parametrize(("tags", "known"), [
    ({"tags": [{"id": 2, "name": "理事"}, {"id": 3}, {"id": 4, "name": "会员"}]}, "理事、、会员"),
    ({}, "无"),
])
async def test_an_unknown_tag_fails_naming_the_tags_there_are(world, tags, known):
    async with world() as w:
        w.api.answers["tags_get"] = tags
        push = await w.add("approved", kind="broadcast", media_id="M1", tag_name="校友")
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.error_reason) == ("failed", texts.REASON_UNKNOWN_TAG.format(tag="校友", known=known))
        assert w.api.named("mass_sendall") == []


@pytest.mark.parametrize(("kind", "clientmsgid"), [("broadcast", "push-{id}-3"), ("publish", None)])
async def test_submitting_is_written_before_the_call(world, kind, clientmsgid):
    async with world(scheduler={"pause_at": ["before:submit"]}) as w:
        push = await w.add("approved", kind=kind, media_id="M1", attempt=3)
        w.clock.advance(1)
        assert await paused(w.pipeline.submit(push))
        row = await w.push(push.id)
        now = START + timedelta(seconds=1)
        assert (row.state, row.submit_started_at, row.next_run_at) == ("submitting", now, now + timedelta(seconds=90))
        assert row.clientmsgid == (clientmsgid and clientmsgid.format(id=push.id))
        assert w.api.calls == []


async def test_after_the_submit_the_pipeline_can_stop_before_writing_the_answer(world):
    async with world(scheduler={"pause_at": ["after:submit"]}) as w:
        push = await w.add("approved", media_id="M1")
        assert await paused(w.pipeline.submit(push))
        assert w.api.named("publish_submit") == [("M1",)]
        assert (await w.push(push.id)).state == "submitting"


async def test_a_publish_submitted_is_polled_later(world, caplog):
    caplog.set_level(logging.INFO, logger="scheduler.pipeline")
    async with world() as w:
        push = await w.add("approved", media_id="M1", retries=2, polls=4)
        w.api.answers["publish_submit"] = 778

        async def slow():  # the answer comes 5 s after the call: the first poll counts from it
            w.clock.advance(5)

        w.api.hooks["publish_submit"] = slow
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        answered = START + timedelta(seconds=5)
        assert (row.state, row.publish_id, row.submitted_at, row.retries, row.polls, row.next_run_at) == (
            "submitted", "778", answered, 0, 0, answered + timedelta(seconds=90))
        assert (await w.timeline(push.id))[-1] == ("state", "submitted", texts.EV_SUBMITTED_PUBLISH, {"publish_id": 778})
        assert logged(caplog, f"push {push.id} submitted by {WORKER}: {{'publish_id': 778}}") == [push.id]


@pytest.mark.parametrize(("protection", "tag_id", "state"), [
    (True, None, "confirming"), (True, 5, "submitted"), (False, None, "submitted")])
async def test_a_broadcast_submitted_waits_for_a_confirmation_only_to_all_under_protection(world, protection, tag_id, state):
    async with world(scheduler={"broadcast_protection": protection}) as w:
        push = await w.add("approved", kind="broadcast", media_id="M1", tag_id=tag_id, retries=1, polls=2)

        async def slow():
            w.clock.advance(5)

        w.api.hooks["mass_sendall"] = slow
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        answered = START + timedelta(seconds=5)
        assert (row.state, row.msg_id, row.msg_data_id, row.submitted_at, row.retries, row.polls, row.next_run_at) == (
            state, "1001", "2002", answered, 0, 0, answered + timedelta(seconds=90))
        assert (await w.timeline(push.id))[-1] == (
            "state", state, texts.EV_SUBMITTED_MASS, {"msg_id": 1001, "msg_data_id": 2002, "clientmsgid": f"push-{push.id}-1"})


async def test_a_broadcast_answer_without_msg_data_id_or_a_known_clientmsgid(world):
    async with world() as w:
        w.api.answers["mass_sendall"] = {"msg_id": 1001}
        push = await w.add("approved", kind="broadcast", media_id="M1")
        await w.pipeline.submit(push)
        assert ((await w.push(push.id)).msg_id, (await w.push(push.id)).msg_data_id) == ("1001", None)
        # 45065: the first send of this clientmsgid went through; its msg_id is ours.
        dup = await w.add("approved", kind="broadcast", media_id="M2")
        w.api.errors["mass_sendall"] = [DuplicateClientMsgId(45065, "dup", "message/mass/sendall", msg_id=777)]
        await w.pipeline.submit(dup)
        row = await w.push(dup.id)
        assert (row.state, row.msg_id, row.msg_data_id) == ("submitted", "777", None)


async def test_send_too_fast_waits_a_minute_in_submitting(world):
    async with world() as w:
        push = await w.add("approved", kind="broadcast", media_id="M1")
        w.api.errors["mass_sendall"] = [SendTooFast(45066, "too fast", "message/mass/sendall")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.next_run_at) == ("submitting", START + timedelta(seconds=60))
        assert (await w.timeline(push.id))[-1] == ("wechat", "submitting", texts.EV_TOO_FAST, {"errcode": 45066})


@pytest.mark.parametrize(("error", "poll", "wait"), [
    (OutcomeUnknown(-1, "timeout", "freepublish/submit"), 90, 60),
    (WeChatError(None, "connection reset", "freepublish/submit"), 30, 30),
])
async def test_a_submit_without_an_answer_is_reconciled_later(world, error, poll, wait):
    async with world(scheduler={"poll_seconds": poll}) as w:
        push = await w.add("approved", media_id="M1")
        w.api.errors["publish_submit"] = [error]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("submitting", 0, START + timedelta(seconds=wait))
        assert (await w.timeline(push.id))[-1] == ("wechat", "submitting", texts.EV_UNKNOWN_OUTCOME, {"error": str(error)})


async def test_a_transient_refusal_of_the_submit_goes_back_to_approved(world):
    async with world() as w:
        push = await w.add("approved", media_id="M1")
        w.api.errors["publish_submit"] = [TransientError(45011, "minute quota", "freepublish/submit")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.retries, row.next_run_at) == ("approved", 1, START + timedelta(seconds=30))
        assert (await w.timeline(push.id))[-1][:3] == (
            "state", "approved", f"提交没有成功：{texts.cause(45011)}，30 秒后重试")


async def test_a_broadcast_refused_for_the_draft_media_goes_as_uploaded_news(world, monkeypatch):
    async with world() as w:
        asked = []

        async def news_media_id(services, push, worker=None):
            asked.append((services is w.services, push.id, worker))
            return "NEWS_1"

        monkeypatch.setattr(pipeline_module, "news_media_id", news_media_id)
        push = await w.add("approved", kind="broadcast", media_id="M1")
        w.api.errors["mass_sendall"] = [ContentRejected(40007, "invalid media_id", "message/mass/sendall")]
        await w.pipeline.submit(push)
        assert asked == [(True, push.id, WORKER)]
        same = {"clientmsgid": f"push-{push.id}-1", "send_ignore_reprint": 0, "tag_id": None}
        assert w.api.named("mass_sendall") == [("M1", same), ("NEWS_1", same)]
        assert (await w.push(push.id)).state == "submitted"


@pytest.mark.parametrize(("code", "news"), [(40007, "N1"), (45002, None)])
async def test_other_refusals_of_a_broadcast_fail_it(world, monkeypatch, code, news):
    async with world() as w:
        async def news_media_id(services, push, worker=None):
            raise AssertionError("not this way")

        monkeypatch.setattr(pipeline_module, "news_media_id", news_media_id)
        push = await w.add("approved", kind="broadcast", media_id="M1", news_media_id=news)
        w.api.errors["mass_sendall"] = [ContentRejected(code, "refused", "message/mass/sendall")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        assert (row.state, row.error_code, row.error_reason) == ("failed", code, texts.explain(code, "refused"))
        assert [c[0] for c in w.api.named("mass_sendall")] == [news or "M1"]


# --- quotas -----------------------------------------------------------------------------------------


async def test_no_broadcast_quota_moves_the_push_to_the_next_free_slot(world):
    async with world() as w:
        push = await w.add("approved", kind="broadcast", media_id="M1", retries=2)
        await w.add("approved", kind="broadcast", planned_at=local(6, 20))  # tomorrow's broadcast
        w.api.errors["mass_sendall"] = [QuotaExceeded(45028, "no quota", "message/mass/sendall")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        at = local(7, 8)  # the first slot of the next local day that has no broadcast yet
        cause = "群发次数已用完（微信错误码 45028）"
        reason = texts.REASON_QUOTA.format(cause=cause, at=planning.show(at, w.services.settings))
        assert (row.state, row.planned_at, row.next_run_at, row.error_code, row.error_reason, row.retries) == (
            "approved", at, at, 45028, reason, 0)
        assert (await w.timeline(push.id))[-1] == ("state", "approved", reason, None)
        notes = await w.notices(push.id)
        assert [(o, k) for o, k, _ in notes] == [(EDITOR, "rescheduled"), (OTHER, "rescheduled")]
        assert cause in notes[0][2] and planning.show(at, w.services.settings) in notes[0][2]


async def test_a_service_accounts_monthly_broadcasts_move_to_next_month(world):
    async with world(wechat={"account_type": "service"}) as w:
        push = await w.add("approved", kind="broadcast", media_id="M1")
        w.api.errors["mass_sendall"] = [QuotaExceeded(45028, "no quota", "message/mass/sendall")]
        await w.pipeline.submit(push)
        assert (await w.push(push.id)).planned_at == datetime(2026, 2, 1, 8, 0, tzinfo=planning.ZoneInfo("Asia/Shanghai"))


async def test_a_quota_while_drafting_keeps_drafting_after_the_quota_is_back(world, monkeypatch):
    async with world() as w:
        async def build_draft(services, push):
            return []

        monkeypatch.setattr(pipeline_module, "build_draft", build_draft)
        # Planned for tomorrow's first slot itself: that slot is still its own.
        push = await w.add("preparing", planned_at=local(6, 8))
        await w.add("approved", planned_at=local(6, 12))  # another push holds 12:00
        w.api.errors["draft_add"] = [QuotaExceeded(45009, "quota", "draft/add")]
        await w.pipeline.prepare(push)
        row = await w.push(push.id)
        assert (row.state, row.planned_at, row.next_run_at, row.error_code) == ("preparing", local(6, 8), START, 45009)
        assert (await w.timeline(push.id))[-2] == (
            "wechat", "preparing", f"生成草稿没有成功：{texts.cause(45009)}",
            {"errcode": 45009, "endpoint": "draft/add", "errmsg": "quota"})
        assert (await w.timeline(push.id))[-1][0] == "note"


async def test_without_slots_a_quota_moves_the_push_to_when_it_is_back(world):
    async with world(scheduler={"slots": {}}) as w:
        push = await w.add("approved", media_id="M1")
        w.api.errors["publish_submit"] = [QuotaExceeded(45099, "some quota", "freepublish/submit")]
        await w.pipeline.submit(push)
        row = await w.push(push.id)
        at = local(6, 0)
        assert (row.state, row.planned_at, row.next_run_at) == ("approved", at, at)
        assert row.error_reason == texts.REASON_QUOTA.format(cause="微信配额已用完（微信错误码 45099）",
                                                             at=planning.show(at, w.services.settings))


async def test_a_preview_that_needs_the_news_material_is_not_stored_once_the_lease_is_lost(world):
    async with world(editors=[EDITOR]) as w:
        push = await w.add("drafted", media_id="M1", preview=True)

        async def taken():
            await w.set(push.id, claimed_by="w2")

        w.api.hooks["mass_preview"] = taken
        w.api.errors["mass_preview"] = [ContentRejected(40007, "invalid media_id", "message/mass/preview")]
        with pytest.raises(states.Stale):
            await w.pipeline.after_draft(push)
        assert [c[0] for c in w.api.calls] == ["mass_preview", "draft_get", "upload_news"]
        assert (await w.push(push.id)).news_media_id is None
