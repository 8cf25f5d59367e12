"""The reading report over one year or several (`reading_report`): the one function the CLI (`main.py
stats report`) and the console call. From what 数据统计 reported (store/reading/records.py):

- articles published in the year: those sent out (mass-sent or published) on a day of it;
- their reads: the readers of each day summed over the days stored (read_user, people per day, the
  figure both the 发表内容 and the legacy statistics give), with shares and favourites likewise;
  mean reads = reads / articles;
- the most-read articles of the years asked;
- followers: at the end of the year before and of the year (getusercumulate), and the follows and
  unfollows of the year (getusersummary).
The federation's sentence ("年均推文N篇，阅读量超M万", texts.headline) takes, for one year, that
year's articles and reads; over several, their yearly mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from store.db import SessionFactory
from store.models.reading import ArticleDay, FollowerDay, FollowerSource, ReadArticle

DEFAULT_TOP = 10


@dataclass(frozen=True)
class YearFigures:
    year: int
    articles: int
    reads: int
    shares: int
    favourites: int
    mean_reads: float | None  # per article; None without articles
    followers_before: int | None  # at the end of the year before (None: not fetched)
    followers_after: int | None  # at the end of the year, or of its last day fetched
    new_followers: int
    cancelled: int

    @property
    def growth(self) -> int:
        return self.new_followers - self.cancelled


@dataclass(frozen=True)
class TopArticle:
    msgid: str
    title: str
    sent_on: date
    reads: int
    shares: int
    favourites: int
    push_id: int | None
    article_id: int | None


@dataclass(frozen=True)
class ReadingReport:
    first_year: int
    last_year: int
    years: list[YearFigures]
    top: list[TopArticle]
    articles_per_year: int  # the sentence's N (rounded mean)
    reads_per_year: int  # its reads (mean, rounded down)


def _sums():
    return (func.coalesce(func.sum(ArticleDay.read_user), 0), func.coalesce(func.sum(ArticleDay.share_user), 0),
            func.coalesce(func.sum(ArticleDay.fav_user), 0))


async def _year(session, year: int) -> YearFigures:
    first, last = date(year, 1, 1), date(year, 12, 31)
    in_year = ReadArticle.sent_on.between(first, last)
    articles = await session.scalar(select(func.count()).select_from(ReadArticle).where(in_year)) or 0
    reads, shares, favs = (await session.execute(
        select(*_sums()).select_from(ArticleDay).join(ReadArticle, ReadArticle.msgid == ArticleDay.msgid)
        .where(in_year))).one()
    before = await session.scalar(select(FollowerDay.cumulate_user).where(FollowerDay.ref_date < first)
                                  .order_by(FollowerDay.ref_date.desc()).limit(1))
    after = await session.scalar(select(FollowerDay.cumulate_user).where(FollowerDay.ref_date <= last)
                                 .where(FollowerDay.ref_date >= first)
                                 .order_by(FollowerDay.ref_date.desc()).limit(1))
    new, cancelled = (await session.execute(
        select(func.coalesce(func.sum(FollowerSource.new_user), 0),
               func.coalesce(func.sum(FollowerSource.cancel_user), 0))
        .where(FollowerSource.ref_date.between(first, last)))).one()
    return YearFigures(year, articles, int(reads), int(shares), int(favs),
                       reads / articles if articles else None, before, after, int(new), int(cancelled))


async def _top(session, first: date, last: date, limit: int) -> list[TopArticle]:
    reads, shares, favs = _sums()
    a = ReadArticle
    rows = await session.execute(
        select(a.msgid, a.title, a.sent_on, reads, shares, favs, a.push_id, a.article_id)
        .join(ArticleDay, ArticleDay.msgid == a.msgid)
        .where(a.sent_on.between(first, last))
        .group_by(a.msgid, a.title, a.sent_on, a.push_id, a.article_id)
        .order_by(reads.desc(), a.sent_on, a.msgid).limit(limit))
    return [TopArticle(m, t, d, int(r), int(s), int(f), p, i) for m, t, d, r, s, f, p, i in rows]


async def reading_report(db: SessionFactory, year: int, *, since: int | None = None,
                         top: int = DEFAULT_TOP) -> ReadingReport:
    """The report over the years `since`..`year` (one year without `since`); see the module docstring."""
    first_year = min(since or year, year)
    async with db() as session:
        years = [await _year(session, y) for y in range(first_year, year + 1)]
        best = await _top(session, date(first_year, 1, 1), date(year, 12, 31), top) if top else []
    n = len(years)
    return ReadingReport(first_year, year, years, best,
                         articles_per_year=(2 * sum(y.articles for y in years) + n) // (2 * n),
                         reads_per_year=sum(y.reads for y in years) // n)


async def push_figures(db: SessionFactory, push_id: int) -> list[TopArticle]:
    """A push's articles (in their order) with the figures stored for them."""
    reads, shares, favs = _sums()
    async with db() as session:
        rows = await session.execute(
            select(ReadArticle.msgid, ReadArticle.title, ReadArticle.sent_on, reads, shares, favs,
                   ReadArticle.push_id, ReadArticle.article_id)
            .outerjoin(ArticleDay, ArticleDay.msgid == ReadArticle.msgid)
            .where(ReadArticle.push_id == push_id)
            .group_by(ReadArticle.msgid, ReadArticle.title, ReadArticle.sent_on, ReadArticle.push_id,
                      ReadArticle.article_id, ReadArticle.idx)
            .order_by(ReadArticle.idx))
        return [TopArticle(m, t, d, int(r), int(s), int(f), p, a) for m, t, d, r, s, f, p, a in rows]


@dataclass(frozen=True)
class FollowerPoint:
    day: date
    followers: int | None  # at the end of the day (None: not fetched)
    new_followers: int
    cancelled: int


async def follower_series(db: SessionFactory, first: date, last: date) -> list[FollowerPoint]:
    """Followers day by day (for a chart of followers over time): the days with any figure stored."""
    async with db() as session:
        totals = dict((await session.execute(select(FollowerDay.ref_date, FollowerDay.cumulate_user)
                                             .where(FollowerDay.ref_date.between(first, last)))).all())
        moves = {d: (int(n), int(c)) for d, n, c in (await session.execute(
            select(FollowerSource.ref_date, func.sum(FollowerSource.new_user), func.sum(FollowerSource.cancel_user))
            .where(FollowerSource.ref_date.between(first, last)).group_by(FollowerSource.ref_date))).all()}
    return [FollowerPoint(d, totals.get(d), *moves.get(d, (0, 0))) for d in sorted(set(totals) | set(moves))]


@dataclass(frozen=True)
class PushReads:
    """One push as WeChat counts it (one msg_data_id: a broadcast or a publish), with its articles'
    figures summed over the days stored."""

    msg_data_id: str
    sent_on: date
    title: str  # its first article's
    articles: int
    reads: int
    shares: int
    favourites: int
    push_id: int | None  # the product's push, once linked (records.link_pushes)


async def push_reads(db: SessionFactory, first: date, last: date) -> list[PushReads]:
    """The pushes sent between `first` and `last`, oldest first (for a chart of reads per push)."""
    a = ReadArticle
    reads, shares, favs = _sums()
    async with db() as session:
        rows = (await session.execute(
            select(a.msg_data_id, func.min(a.sent_on), func.count(func.distinct(a.msgid)), reads, shares, favs,
                   func.max(a.push_id))
            .outerjoin(ArticleDay, ArticleDay.msgid == a.msgid)
            .where(a.sent_on.between(first, last)).group_by(a.msg_data_id))).all()
        titles = dict((await session.execute(select(a.msg_data_id, a.title).where(
            a.sent_on.between(first, last), a.idx == 1))).all())
    out = [PushReads(d, sent, titles.get(d, ""), int(n), int(r), int(s), int(f), p)
           for d, sent, n, r, s, f, p in rows]
    return sorted(out, key=lambda p: (p.sent_on, p.msg_data_id))
