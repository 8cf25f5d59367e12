"""新闻 / 最新 (and the NEWS_LATEST menu key): the latest articles; 新闻 关键词 / 搜索 关键词: a search.

A passive reply is one message and we never spend a customer-service message here: one clear best
hit becomes a 1-article news reply (title, digest, cover, link), anything else a short numbered text
list of titles as links, whose numbers the follower may answer (the `news_choice` step) to get that
article's card. Links go to the WeChat article once published, else to the website's page. A date
shows its year when it is not this year's (in `[scheduler] timezone`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.context import Context
from bot.router import Router, text_of
from core.clock import local_date
from store.content.media import hosted_url
from store.content.search import latest, search_hits
from store.models.content import Article
from wechat.replies import News, NewsItem, Text

# --- what followers read ------------------------------------------------------------------------------
HELP_LATEST = "新闻 — 最新动态"
HELP_SEARCH = "新闻 关键词（或 搜索 关键词）— 搜索新闻，例如“新闻 等级评估”"
LATEST_HEADER = "最新动态："
SEARCH_HEADER = "与“{query}”相关的新闻："
ITEM = '{n}. <a href="{url}">{title}</a>{when}'
ITEM_NO_LINK = "{n}. {title}{when}"
MORE_RESULTS = "回复“新闻 关键词”换个关键词试试。"
NO_NEWS = "暂时还没有新闻，请稍后再来看看。"
NO_RESULT = "没有找到与“{query}”相关的新闻。"
NO_RESULT_TRY = "可以换个更短的关键词，例如“评估”“培训”“年会”。最近的新闻："
ASK_KEYWORD = "请在“搜索”后面加上关键词，例如：搜索 等级评估"
PICK_HINT = "回复序号查看该篇。"
ARTICLE_GONE = "这篇文章已不在了，请重新发送“新闻”查看。"
# -----------------------------------------------------------------------------------------------------

LIST_SIZE = 5
CHOICE_STEP = "news_choice"
CHOICE_TTL_SECONDS = 30 * 60
# A margin under the text reply's limit (wechat.limits.TEXT_BYTES, itself only measured).
LIST_MAX_BYTES = 2000

router = Router("news")


def link(article: Article) -> str:
    """The WeChat article once published, else the website's page ("" for a page imported from a file)."""
    url = article.wechat_url or article.source_url
    return url if url.startswith(("http://", "https://")) else ""


def _title(article: Article) -> str:
    return article.wechat_title or article.title


def when(published: date | None, today: date) -> str:
    """"（3月1日）" this year, "（2024年3月1日）" another year."""
    if published is None:
        return ""
    year = f"{published.year}年" if published.year != today.year else ""
    return f"（{year}{published.month}月{published.day}日）"


async def text_list(ctx: Context, header: str, articles: list[Article], footer: str = "") -> Text:
    """Titles as links, numbered, as many as fit the text reply's size; the follower may answer a
    number (the `news_choice` step)."""
    today = local_date(ctx.clock.now(), ctx.settings.scheduler.timezone)
    lines = [header]
    listed: list[int] = []
    footer = "\n".join(x for x in (footer, PICK_HINT) if x)
    for n, a in enumerate(articles, 1):
        url = link(a)
        line = (ITEM if url else ITEM_NO_LINK).format(n=n, url=url, title=_title(a), when=when(a.published_at, today))
        if len("\n".join([*lines, line, footer]).encode()) > LIST_MAX_BYTES:
            break
        lines.append(line)
        listed.append(a.id)
    lines.append(footer)
    if ctx.follower is not None:  # only a follower holds a conversation to answer the list in
        await ctx.state.expect(CHOICE_STEP, {"ids": listed}, CHOICE_TTL_SECONDS)
    return Text("\n".join(lines))


async def _cover_url(ctx: Context, article: Article) -> str:
    """The cover as WeChat already hosts it for this account, else the website's original image."""
    if article.cover_image_id is None:
        return ""
    async with ctx.db() as session:
        return await hosted_url(session, article.cover_image_id, ctx.settings.wechat.account_key)


async def news_item(ctx: Context, article: Article) -> News:
    return News([NewsItem(
        title=_title(article),
        description=article.wechat_digest or article.digest,
        url=link(article),
        picurl=await _cover_url(ctx, article),
    )])  # fmt: skip


@router.exact("新闻", "最新", "最新动态", help=HELP_LATEST)
@router.click("NEWS_LATEST")
async def latest_news(message: Any, ctx: Context) -> Text:
    async with ctx.db() as session:
        articles = await latest(session, LIST_SIZE)
    if not articles:
        return Text(NO_NEWS)
    return await text_list(ctx, LATEST_HEADER, articles)


@router.prefix("新闻", "搜索", help=HELP_SEARCH)
async def search_news(message: Any, ctx: Context) -> Text | News:
    query = ctx.args.strip()
    if not query:
        return (
            Text(ASK_KEYWORD)
            if not message.content.strip().startswith("新闻")
            else await latest_news(message, ctx)
        )
    async with ctx.db() as session:
        hits = await search_hits(session, query, LIST_SIZE)
        recent = await latest(session, 3) if not hits else []
    if not hits:
        if not recent:
            return Text(NO_RESULT.format(query=query) + "\n" + NO_NEWS)
        return await text_list(ctx, NO_RESULT.format(query=query) + NO_RESULT_TRY, recent)
    titled = [h for h in hits if h.in_title]
    # One clear best hit: the only result, or the only one with the words in its title.
    if len(hits) == 1 or len(titled) == 1:
        return await news_item(ctx, (titled or hits)[0].article)
    return await text_list(ctx, SEARCH_HEADER.format(query=query), [h.article for h in hits], MORE_RESULTS)


def _is_choice(text: str, data: dict) -> bool:
    return text.isdigit() and 1 <= int(text) <= len(data.get("ids") or ())


@router.step(CHOICE_STEP, accepts=_is_choice)
async def news_choice(message: Any, ctx: Context) -> Text | News:
    """A number answering the last list: that article's card. The list stays answerable until it
    expires or another list replaces it, so the follower may read the next one too."""
    ids = (ctx.state.pending or ("", {}))[1].get("ids") or []
    async with ctx.db() as session:
        article = await session.get(Article, ids[int(text_of(message) or 0) - 1])
    if article is None:
        return Text(ARTICLE_GONE)
    return await news_item(ctx, article)
