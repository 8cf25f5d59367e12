"""A push's articles as draft/add wants them: rendered by the content store (store/content/render.py)
with the push's options applied (阅读原文 link, comments), images uploaded through the UploadCache."""

from __future__ import annotations

from sqlalchemy import select

from core.services import Services
from scheduler.uploads import UploadCache
from store.content.render import ArticleTooLong, article_images, render_article
from store.models.content import Article, Image
from store.models.pushes import Push, PushArticle


class ArticleMissing(Exception):
    def __init__(self, article_id: int) -> None:
        super().__init__(article_id)
        self.article_id = article_id


async def _articles(services: Services, push: Push) -> list[Article]:
    async with services.db() as s:
        ids = list((await s.scalars(
            select(PushArticle.article_id).where(PushArticle.push_id == push.id).order_by(PushArticle.position)
        )).all())
        rows = {a.id: a for a in (await s.scalars(select(Article).where(Article.id.in_(ids)))).all()}
    for aid in ids:
        if aid not in rows:
            raise ArticleMissing(aid)
    return [rows[aid] for aid in ids]


async def build_draft(services: Services, push: Push) -> list[dict]:
    """The `articles` of draft/add for this push. Raises ArticleTooLong, ArticleMissing, WeChatError."""
    uploader = UploadCache(services)
    out = []
    for article in await _articles(services, push):
        async with services.db() as s:
            images = await article_images(s, article)
        rendered = await render_article(article, images, uploader)
        item = rendered.as_draft()
        if push.source_url is not None:
            item["content_source_url"] = push.source_url
        item["need_open_comment"] = int(push.open_comment)
        item["only_fans_can_comment"] = int(push.fans_only_comment)
        out.append(item)
    return out


async def news_media_id(services: Services, push: Push, worker: str | None = None) -> str:
    """The draft again as a media/uploadnews material, for accounts whose mass APIs refuse draft
    media_ids (40007; the 群发 page's 其他注意事项 says drafts work, the community says not always).
    Stored on the push before it is used."""
    from scheduler import states, texts

    draft = await services.api.draft_get(push.media_id)
    fields = ("title", "author", "digest", "content", "content_source_url", "thumb_media_id",
              "need_open_comment", "only_fans_can_comment")
    articles = [{k: item[k] for k in fields if k in item} for item in draft.get("news_item") or []]
    media_id = await services.api.upload_news(articles)
    await states.write(services, push, event_kind="wechat", detail=texts.EV_NEWS_UPLOADED,
                       data={"news_media_id": media_id}, worker=worker, news_media_id=media_id)
    return media_id


async def titles_of(services: Services, push: Push) -> list[str]:
    """The titles WeChat shows for the push's articles, in order (to recognise its publish)."""
    return [a.wechat_title or a.title for a in await _articles(services, push)]


class _DryRun:
    """An uploader that uploads nothing: URLs as long as real ones, to measure an article."""

    async def body_image_url(self, image: Image) -> str:
        return "http://mmbiz.qpic.cn/mmbiz_jpg/" + "x" * 90 + "/0?wx_fmt=jpeg"

    async def cover_media_id(self, image: Image) -> str:
        return "dry-run"

    async def default_cover(self) -> Image:
        return Image(id=0, sha256="0" * 64, path="", size=0, mime="image/png", width=1, height=1)


async def check_fits(services: Services, article: Article) -> str | None:
    """Why the article cannot go into a WeChat draft, or None when it fits (no upload is made)."""
    async with services.db() as s:
        images = await article_images(s, article)
    try:
        await render_article(article, images, _DryRun())
    except ArticleTooLong as e:
        return str(e)
    return None
