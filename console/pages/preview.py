"""手机预览: the push as a follower's phone shows it, at a phone's width: the card of 1–8 articles,
then each article's content exactly as the draft will carry it (store/content/render.py, the
renderer the pipeline uses), with the images served from the local media folder instead of
WeChat's. The article's own inline styles need style-src 'unsafe-inline' on this page only;
scripts stay forbidden (the renderer removes them anyway)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from console.security import CSP
from console.web import page, render, services
from scheduler import editing
from store.content.render import ArticleTooLong, article_images, render_article
from store.models.content import Article, Image

PREVIEW_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class LocalImages:
    """The renderer's uploader for a preview: every image is the console's own copy."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def body_image_url(self, image: Image) -> str:
        return f"{self.base}/{image.id}"

    async def cover_media_id(self, image: Image) -> str:
        return str(image.id) if image.id else ""

    async def default_cover(self) -> Image:
        return Image(id=0, sha256="0" * 64, path="", size=0, mime="image/png", width=1, height=1)


@page("/pushes/{id}/phone", role="editor", name="push_phone")
async def phone(request: web.Request) -> web.Response:
    svc = services(request)
    try:
        push = await editing.get(svc, int(request.match_info["id"]))
    except (editing.EditError, ValueError):
        raise web.HTTPNotFound() from None
    base = str(request.app.router["media"].url_for(id="0"))[:-2]
    uploader = LocalImages(base)
    items = []
    async with svc.db() as s:
        arts = {a.id: a for a in (await s.scalars(select(Article).where(
            Article.id.in_([link.article_id for link in push.articles])))).all()}
        images = {aid: await article_images(s, a) for aid, a in arts.items()}
    for link in push.articles:
        a = arts.get(link.article_id)
        if a is None:
            items.append({"id": link.article_id, "error": "文章已被删除"})
            continue
        try:
            r = await render_article(a, images[a.id], uploader)
        except ArticleTooLong as e:
            items.append({"id": a.id, "title": a.wechat_title or a.title, "error": str(e)})
            continue
        cover = f"{base}/{r.thumb_media_id}" if r.thumb_media_id else ""
        items.append({"id": a.id, "title": r.title, "author": r.author, "digest": r.digest, "cover": cover,
                      "content": Markup(r.content), "source_url": r.content_source_url, "error": ""})
    response = await render(request, "phone.html", push=push, items=items,
                            account=svc.settings.wechat.display_name or svc.settings.wechat.account_id)
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    return response


@page("/media/{id}", role="editor", name="media")
async def media(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    try:
        image_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with svc.db() as s:
        image = await s.get(Image, image_id)
    if image is None or not image.path:
        raise web.HTTPNotFound()
    def locate() -> Path | None:
        root = Path(svc.settings.path(svc.settings.content.media_dir)).resolve()
        path = (root / image.path).resolve()
        return path if root in path.parents and path.is_file() else None

    path = await asyncio.to_thread(locate)
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": image.mime, "Cache-Control": "private, max-age=3600"})
