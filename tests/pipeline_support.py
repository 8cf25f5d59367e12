"""The pipeline's unit-test bench (tests/test_pipeline_*units.py): scheduler/pipeline.py step by step,
without the local platform. A migrated SQLite database (migrated once per module, copied per test), a
fake clock that only moves when told, and a fake WeChat client that answers, fails or changes the
row meanwhile as each test says."""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from app import open_services
from core.clock import FakeClock
from core.services import Services
from scheduler import planning
from scheduler.pipeline import Pipeline
from store.migrate import upgrade
from store.models.content import Article
from store.models.pushes import Notification, Push, PushArticle, PushEvent, PushPreview
from store.shared import MemoryState
from tests.scheduler_support import EVERY_DAY

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


def migrated_template(tmp_path_factory) -> Path:
    """One migrated database for a module (migrating takes longer than most of these tests)."""
    path = tmp_path_factory.mktemp("pipeline_units") / "template.db"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, upgrade(f"sqlite+aiosqlite:///{path}")).result()
    return path


def world_factory(template: Path, tmp_path: Path, make_settings) -> Callable[..., AbstractAsyncContextManager[World]]:
    """`async with world(scheduler={…}, wechat={…}) as w:` — the pipeline of worker w1 on a copy of
    the template database."""
    db = tmp_path / "units.db"
    shutil.copy(template, db)
    migrated = f"sqlite+aiosqlite:///{db}"

    @asynccontextmanager
    async def make(scheduler: dict | None = None, editors: list[str] | None = None, **sections) -> AsyncIterator[World]:
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
