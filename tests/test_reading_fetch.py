"""The reading figures' daily fetch (scheduler/reading.py) against the local platform's 数据统计: yesterday
after 08:00, a gap of missed days filled in queries within each endpoint's span, 61501 refusals split
or recorded, 61503 and errors stopping one endpoint without losing what came before, a second run
storing nothing twice, the 发表内容 statistics from 2025-11-01 (silent publishes too) and the legacy
ones before (mass-sent only), and each article linked to its figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from app import open_services
from core.clock import FakeClock
from sandbox.platform import figures
from scheduler import reading
from store.migrate import upgrade
from store.models.reading import ArticleDay, ArticleTotal, Fetched, FollowerDay, ReadArticle, ReadHour
from tests.fixtures.sandbox import make_draft
from wechat.limits import DATACUBE_SPANS

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 on 2026-03-02 in Beijing
D0 = date(2026, 3, 2)
DAY = 86400.0
TABLES = (ArticleDay, ArticleTotal, Fetched, FollowerDay, ReadArticle, ReadHour)


async def setup(sandbox_factory, make_settings, tmp_path, start=START, backfill=30, db_url=None):
    """The local platform and the product's services on one clock; three follows, an unfollow, a
    mass send of two articles and a silent publish of one, at `start`."""
    clock = FakeClock(start)
    sb = await sandbox_factory(clock=clock)
    settings = sb.settings_for(make_settings, scheduler={"reading_backfill_days": backfill},
                               **({"database": {"url": db_url}} if db_url else {}))
    await upgrade(settings.database_url)
    for openid in ("o1", "o2", "o3"):
        sb.platform.follower_action(openid, "subscribe")
    sb.platform.follower_action("o3", "unsubscribe")
    sent = await sb.api("message/mass/sendall", {"filter": {"is_to_all": True}, "msgtype": "mpnews",
                                                 "mpnews": {"media_id": await make_draft(sb, 2)}})
    published = await sb.api("freepublish/submit", {"media_id": await make_draft(sb, 1)})
    await sb.settle()
    return clock, sb, settings, str(sent["msg_data_id"]), str(published["msg_data_id"])


async def counts(services) -> dict[str, int]:
    async with services.db() as s:
        return {t.__tablename__: await s.scalar(select(func.count()).select_from(t)) for t in TABLES}


def datacube_calls(sb) -> list[tuple[str, date, date]]:
    out = []
    for c in sb.calls():
        if c["endpoint"].startswith("datacube/"):
            body = c["params"]["body"]
            out.append((c["endpoint"].split("/")[1], date.fromisoformat(body["begin_date"]),
                        date.fromisoformat(body["end_date"])))
    return out


async def test_a_gap_of_missed_days_is_fetched_within_spans_and_a_second_run_stores_nothing(
        sandbox_factory, make_settings, tmp_path, db_url):
    clock, sb, settings, mass_id, pub_id = await setup(sandbox_factory, make_settings, tmp_path, db_url=db_url)
    async with open_services(settings, clock=clock) as services:
        clock.advance(DAY)  # 2026-03-03 10:00: 2 March is ready
        first = await reading.fetch(services)
        assert (first.first, first.last) == (D0 - timedelta(days=29), D0) and not first.errors
        clock.advance(6 * DAY)  # six days pass without a run (the process was down)
        sb.platform.state["calls"].clear()
        second = await reading.fetch(services)
        assert second.last == D0 + timedelta(days=6) and not second.errors and not second.refused
        calls = datacube_calls(sb)
        for name, begin, end in calls:
            assert begin <= end and (end - begin).days < DATACUBE_SPANS[name], (name, begin, end)
        days = {(n, b) for n, b, _ in calls}
        # the missed days, one query per day where the span is 1, one for all six where it is 7
        assert {b for n, b in days if n == "getarticleread"} == {D0 + timedelta(days=k) for k in range(1, 7)}
        assert [(b, e) for n, b, e in calls if n == "getusersummary"] == [(D0 + timedelta(days=1),
                                                                           D0 + timedelta(days=6))]
        # the totals of 2 March grow for 30 days: asked again
        assert ("getarticletotaldetail", D0) in days
        assert not any(n in ("getarticlesummary", "getarticletotal") for n, _ in days)  # 发表内容 from 2025-11-01

        stored = await counts(services)
        sb.platform.state["calls"].clear()
        third = await reading.fetch(services)
        assert third.calls == 0 and datacube_calls(sb) == [] and await counts(services) == stored

        # what is stored is what the platform reports: every article's readers by day, silent publish too
        last = D0 + timedelta(days=6)
        async with services.db() as s:
            reads = dict((await s.execute(select(ArticleDay.msgid, func.sum(ArticleDay.read_user))
                                          .group_by(ArticleDay.msgid))).all())
            articles = {a.msgid: a for a in await s.scalars(select(ReadArticle))}
            followers = await s.scalar(select(FollowerDay.cumulate_user).where(FollowerDay.ref_date == last))
        items = {i.msgid: i for i in figures.items(sb.platform)}
        assert set(articles) == set(items) == {f"{mass_id}_1", f"{mass_id}_2", f"{pub_id}_1"}
        for msgid, item in items.items():
            assert reads[msgid] == figures.totals(item, last, 30)["int_page_read_user"] > 0
            assert articles[msgid].sent_on == D0 and articles[msgid].notified == item.notified
            assert articles[msgid].title == item.title
        assert followers == 2


async def test_61501_splits_the_range_or_records_the_day_and_61503_stops_one_endpoint(
        sandbox_factory, make_settings, tmp_path):
    clock, sb, settings, *_ = await setup(sandbox_factory, make_settings, tmp_path, backfill=5)
    async with open_services(settings, clock=clock) as services:
        clock.advance(5 * DAY)
        sb.platform.add_fault("datacube/getusersummary", errcode=61501, times=1)  # a span "too long"
        sb.platform.add_fault("datacube/getarticleread", errcode=61501, times=1)  # one day refused
        sb.platform.add_fault("datacube/getarticleshare", errcode=61503, times=1)  # not ready
        report = await reading.fetch(services)
        first, last = D0, D0 + timedelta(days=4)
        assert report.refused == [("getarticleread", first)]
        assert report.not_ready == ["getarticleshare"]
        calls = datacube_calls(sb)
        summary = [(b, e) for n, b, e in calls if n == "getusersummary"]
        assert summary[0] == (first, last) and len(summary) == 3  # refused, then its two halves
        async with services.db() as s:
            done = {(f.endpoint, f.ref_date): f.refused for f in await s.scalars(select(Fetched))}
        assert all(done[("getusersummary", first + timedelta(days=k))] is False for k in range(5))
        assert done[("getarticleread", first)] is True
        assert not any(e == "getarticleshare" for e, _ in done)  # nothing marked done: asked next time
        # the next run asks what 61503 stopped, not the refused day; an explicit since asks it again
        sb.platform.state["calls"].clear()
        again = await reading.fetch(services)
        assert {n for n, _, _ in datacube_calls(sb)} == {"getarticleshare"} and not again.refused
        sb.platform.state["calls"].clear()
        await reading.fetch(services, since=first)
        assert [(n, b) for n, b, _ in datacube_calls(sb)] == [("getarticleread", first)]


async def test_before_2025_11_01_the_legacy_statistics_count_mass_sent_articles(
        sandbox_factory, make_settings, tmp_path):
    start = datetime(2025, 10, 20, 2, 0, tzinfo=UTC)
    clock, sb, settings, mass_id, _ = await setup(sandbox_factory, make_settings, tmp_path, start=start,
                                                  backfill=3)
    async with open_services(settings, clock=clock) as services:
        clock.advance(3 * DAY)  # 23 October, 10:00: 20–22 October are ready
        report = await reading.fetch(services)
        assert not report.errors and not report.refused
        names = {n for n, _, _ in datacube_calls(sb)}
        assert {"getarticlesummary", "getarticletotal", "getuserreadhour"} <= names
        assert not names & {"getarticleread", "getarticleshare", "getarticletotaldetail"}
        async with services.db() as s:
            articles = {a.msgid: a for a in await s.scalars(select(ReadArticle))}
            hours = await s.scalar(select(func.sum(ReadHour.read_user)))
            reads = dict((await s.execute(select(ArticleDay.msgid, func.sum(ArticleDay.read_user))
                                          .group_by(ArticleDay.msgid))).all())
        assert set(articles) == {f"{mass_id}_1", f"{mass_id}_2"}  # the silent publish is not counted
        assert all(a.sent_on == start.date() for a in articles.values())
        items = {i.msgid: i for i in figures.items(sb.platform) if i.notified}
        for msgid, item in items.items():
            assert reads[msgid] == figures.totals(item, date(2025, 10, 22), 7)["int_page_read_user"]
        assert hours == sum(reads.values())
