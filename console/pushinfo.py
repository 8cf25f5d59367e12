"""What the pushes pages show, read from the pipeline's rows: the status tabs and the mapping from
the push states to them, the counts, a tab's rows, the quota left, and the warnings an editor sees
before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import selectinload

from core.services import Services
from scheduler import planning
from scheduler.states import Review, S
from store.models.content import Article, ArticleImage, Image
from store.models.pushes import Push, PushEvent, PushPreview
from wechat.limits import CONTENT_CHARS, DRAFT_ARTICLES, TITLE_CHARS

# The status tabs, in order, and which pipeline states each holds (the one mapping; the SQL below
# and `tab_of` say the same):
#   草稿    planned … previewed (and overdue never), not approved and not waiting for approval
#           (a rejected push is here, with its comment)
#   待审批  submitted for approval, not yet approved
#   已排期  approved (by an approver, the CLI or auto_approve) and not yet handed to WeChat:
#           planned … approved
#   发送中  submitting, submitted, confirming (群发保护: waiting for the administrator)
#   已完成  done; withdrawn (已撤回) shown here with its badge
#   失败    failed; overdue (逾期: missed its time, nothing sent) shown here with its badge
#   已取消  cancelled
TABS = [("draft", "草稿"), ("review", "待审批"), ("scheduled", "已排期"), ("sending", "发送中"),
        ("done", "已完成"), ("failed", "失败"), ("cancelled", "已取消")]
TAB_NAMES = dict(TABS)
OPEN = (S.PLANNED, S.PREPARING, S.DRAFTED, S.PREVIEWED, S.APPROVED)
SENDING = (S.SUBMITTING, S.SUBMITTED, S.CONFIRMING)
# A body image over this is re-encoded smaller by the upload (media/uploadimg takes < 1 MB).
UPLOADIMG_BYTES = 1_000_000
PAGE = 50


def tab_of(push: Push) -> str:
    if push.state == S.CANCELLED:
        return "cancelled"
    if push.state in (S.DONE, S.WITHDRAWN):
        return "done"
    if push.state in (S.FAILED, S.OVERDUE):
        return "failed"
    if push.state in SENDING:
        return "sending"
    if push.approved_by is not None:
        return "scheduled"
    if push.review == Review.SUBMITTED:
        return "review"
    return "draft"


def tab_where(tab: str):
    open_ = Push.state.in_(OPEN)
    return {
        "draft": and_(open_, Push.approved_by.is_(None), Push.review != Review.SUBMITTED),
        "review": and_(open_, Push.approved_by.is_(None), Push.review == Review.SUBMITTED),
        "scheduled": and_(open_, Push.approved_by.is_not(None)),
        "sending": Push.state.in_(SENDING),
        "done": Push.state.in_((S.DONE, S.WITHDRAWN)),
        "failed": Push.state.in_((S.FAILED, S.OVERDUE)),
        "cancelled": Push.state == S.CANCELLED,
    }[tab]


async def counts(services: Services) -> dict[str, int]:
    out = dict.fromkeys(TAB_NAMES, 0)
    q = (select(Push.state, Push.review, Push.approved_by.is_(None), func.count())
         .group_by(Push.state, Push.review, Push.approved_by.is_(None)))
    async with services.db() as s:
        for state, review, unapproved, n in (await s.execute(q)).all():
            probe = Push(state=state, review=review, approved_by=None if unapproved else "x")
            out[tab_of(probe)] += n
    return out


async def rows(services: Services, tab: str, *, before_id: int | None = None, limit: int = PAGE) -> list[Push]:
    q = select(Push).where(tab_where(tab)).options(selectinload(Push.articles))
    if before_id is not None:
        q = q.where(Push.id < before_id)
    async with services.db() as s:
        return list((await s.scalars(q.order_by(Push.id.desc()).limit(limit))).all())


async def titles(services: Services, pushes: list[Push]) -> dict[int, str]:
    """The first article's title of each push (what WeChat shows as the card's headline)."""
    first = {p.id: p.articles[0].article_id for p in pushes if p.articles}
    if not first:
        return {}
    async with services.db() as s:
        got = dict((await s.execute(select(Article.id, func.coalesce(Article.wechat_title, Article.title))
                                    .where(Article.id.in_(set(first.values()))))).all())
    return {pid: got.get(aid, "") for pid, aid in first.items()}


@dataclass
class Quota:
    account: str  # 订阅号 | 服务号
    period: str  # 今天 | 本月
    allowed: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.allowed - self.used)


async def broadcast_quota(services: Services, at: datetime) -> Quota:
    """Broadcasts left in `at`'s day (subscription) or month (service), counting this product's own
    pushes; WeChat also counts sends made by hand at mp.weixin.qq.com, which we cannot see."""
    settings = services.settings
    service = settings.wechat.account_type == "service"
    day = planning.local_day(at, settings)
    async with services.db() as s:
        pushes = (await s.scalars(select(Push.planned_at).where(
            Push.kind == "broadcast", Push.state.not_in(planning.FREED),
            Push.planned_at >= at - timedelta(days=32), Push.planned_at < at + timedelta(days=32)))).all()
    days = [planning.local_day(p, settings) for p in pushes]
    if service:
        used = sum(1 for d in days if (d.year, d.month) == (day.year, day.month))
        return Quota("服务号", "本月", planning.SERVICE_MONTHLY_BROADCASTS, used)
    return Quota("订阅号", "今天" if day == planning.local_day(services.clock.now(), settings) else "当天", 1,
                 sum(1 for d in days if d == day))


async def warnings(services: Services, article_ids: list[int], kind: str, at: datetime | None,
                   exclude_id: int | None = None) -> list[str]:
    """What an editor should know before sending these articles: titles over WeChat's 32 characters,
    a missing cover, images the upload will shrink, content over WeChat's length, too many
    articles, the broadcast quota used up at that time."""
    out: list[str] = []
    if len(article_ids) > DRAFT_ARTICLES:
        out.append(f"一次最多 {DRAFT_ARTICLES} 篇文章，现在选了 {len(article_ids)} 篇")
    async with services.db() as s:
        arts = {a.id: a for a in (await s.scalars(select(Article).where(Article.id.in_(article_ids)))).all()}
        big = (await s.execute(select(ArticleImage.article_id, func.max(Image.size))
                               .join(Image, Image.id == ArticleImage.image_id)
                               .where(ArticleImage.article_id.in_(article_ids), Image.size > UPLOADIMG_BYTES)
                               .group_by(ArticleImage.article_id))).all()
    big_by = dict(big)
    for aid in article_ids:
        a = arts.get(aid)
        if a is None:
            out.append(f"文章 #{aid} 不存在")
            continue
        title = a.wechat_title or a.title
        if len(title) > TITLE_CHARS:
            out.append(f"文章 #{aid} 的标题有 {len(title)} 个字，超过微信的 {TITLE_CHARS} 字上限，请在文章里设一个微信标题")
        if a.cover_image_id is None:
            out.append(f"文章 #{aid} 没有封面图，将使用默认封面")
        if aid in big_by:
            out.append(f"文章 #{aid} 有图片大于 1 MB（最大 {big_by[aid] / 1_000_000:.1f} MB），上传时会被压缩")
        if len(a.body_html) > CONTENT_CHARS:
            out.append(f"文章 #{aid} 正文约 {len(a.body_html)} 个字符，可能超过微信的 {CONTENT_CHARS} 字符上限")
        if a.status == "imported":
            out.append(f"文章 #{aid} 还没有标为可推送（已导入，待审核）")
    if kind == "broadcast":
        when = at or services.clock.now()
        quota = await broadcast_quota(services, when)
        mine = 0 if exclude_id is None else 1
        if quota.used - mine >= quota.allowed:
            out.append(f"{quota.account}{quota.period}的群发次数（{quota.allowed} 次）已用完：{planning.show(when, services.settings)} 不能再群发")
    return out


async def timeline(services: Services, push_id: int) -> list[PushEvent]:
    async with services.db() as s:
        return list((await s.scalars(select(PushEvent).where(PushEvent.push_id == push_id)
                                     .order_by(PushEvent.id))).all())


async def previews_of(services: Services, push_id: int) -> list[PushPreview]:
    async with services.db() as s:
        return list((await s.scalars(select(PushPreview).where(PushPreview.push_id == push_id)
                                     .order_by(PushPreview.id.desc()).limit(50))).all())


async def search_articles(services: Services, q: str, limit: int = 30) -> list[Article]:
    """Articles an editor can put into a push: ready (or published before), newest first, by
    title words when given."""
    cond = [Article.status.in_(("ready", "published"))]
    for word in q.split()[:5]:
        cond.append(or_(Article.title.contains(word, autoescape=True),
                        Article.wechat_title.contains(word, autoescape=True)))
    async with services.db() as s:
        return list((await s.scalars(select(Article).where(*cond, not_(Article.status == "queued"))
                                     .order_by(Article.id.desc()).limit(limit))).all())


async def titles_of(services: Services, article_ids: list[int]) -> dict[int, str]:
    async with services.db() as s:
        return dict((await s.execute(select(Article.id, func.coalesce(Article.wechat_title, Article.title))
                                     .where(Article.id.in_(article_ids)))).all())
