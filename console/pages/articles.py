"""文章: the article library searched and filtered (status, column, source, date), one article's WeChat
fields (title counted as WeChat counts it, digest, tags, cover among its own images shown cropped as
WeChat shows it), mark ready, a phone-width preview of its WeChat-safe HTML; and 导入: an import of a
listing or article URL or an uploaded HTML page, watched while it runs, with its per-URL report.
The same operations as `main.py news …` (store/content/)."""

from __future__ import annotations

import asyncio
from datetime import date

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from console import words
from console.web import SERVICES, audit, editor, form, page, redirect, render, services
from store.content import texts
from store.content.articles import (
    ArticleFilter,
    article_with_images,
    edit_article,
    facets,
    find_articles,
    mark_ready,
    newest_article_id,
    set_cover,
    title_length,
    too_long,
)
from store.content.imports import ImportJobs, stage_html
from store.content.render import fill_images, sanitize
from store.content.sources import source_overview
from store.models.content import Image
from wechat.limits import DIGEST_CHARS, TITLE_CHARS

PAGE = 30
JOBS: web.AppKey[ImportJobs] = web.AppKey("console_import_jobs", ImportJobs)
FACETS_SECONDS = 60.0  # the filters' choices (facets): ~20 ms to read over 2,000 articles
FACETS: web.AppKey[dict] = web.AppKey("console_article_facets", dict)


def setup(app: web.Application) -> None:
    """The console's imports run in the background of this process, stopped when it stops."""
    svc = app[SERVICES]
    app[JOBS] = ImportJobs(svc.settings, svc.db, svc.clock)
    app[FACETS] = {}

    async def stop(app: web.Application) -> None:
        await app[JOBS].aclose()

    app.on_cleanup.append(stop)


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise web.HTTPBadRequest(text=words.BAD_DAY.format(value=text)) from None


@page("/articles", role="editor", name="articles")
async def articles(request: web.Request) -> web.Response:
    svc = services(request)
    q = request.query
    f = ArticleFilter(query=q.get("q", ""), status=q.get("status", ""), column=q.get("column", ""),
                      source=q.get("source", ""), since=_date(q.get("from")), until=_date(q.get("to")))
    offset = max(0, int(q["offset"])) if q.get("offset", "").isdigit() else 0
    found = await find_articles(svc.db, f, offset, PAGE)
    cached = request.config_dict[FACETS]
    newest = await newest_article_id(svc.db)
    # Read again after an import (any process's: a new newest article) or the console's own tag edit,
    # else once a minute: what the CLI retags elsewhere shows within that minute.
    if cached.get("newest") != newest or svc.clock.monotonic() - cached["at"] > FACETS_SECONDS:
        cached.update(at=svc.clock.monotonic(), newest=newest, value=await facets(svc.db))
    columns, sources = cached["value"]
    more = {**q, "offset": str(offset + PAGE)} if found.more else None
    return await render(request, "articles.html", found=found, q=q, more=more, statuses=texts.STATUS,
                        columns=columns, sources=sources, title_length=title_length, max=TITLE_CHARS,
                        polled_count=sum(1 for s in svc.settings.sources if s.poll))


async def _article(request: web.Request):
    try:
        article_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    found = await article_with_images(services(request).db, article_id)
    if found is None:
        raise web.HTTPNotFound(text=words.ARTICLE_GONE.format(id=article_id))
    return found


def preview_html(request: web.Request, body_html: str) -> Markup:
    """The WeChat-safe HTML the draft will carry (store/content/render.py), its images from here."""
    html, shas = sanitize(body_html)
    urls = {sha: request.app.router["article_image"].url_for(sha=sha).path for sha in shas}
    return Markup(fill_images(html, urls))


async def _show(request: web.Request, found, problems: list[str] | None = None, typed: dict | None = None,
                status: int = 200) -> web.Response:
    a, images = found
    return await render(request, "article.html", status=status, a=a, images=images, problems=problems or [],
                        typed=typed or {}, preview=preview_html(request, a.body_html), statuses=texts.STATUS,
                        title_max=TITLE_CHARS, digest_max=DIGEST_CHARS, title_length=title_length)


@page("/articles/{id}", role="editor", name="article")
async def article(request: web.Request) -> web.Response:
    return await _show(request, await _article(request))


@page("/articles/{id}", role="editor", method="POST", name="article_save")
async def save(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    a, images = await _article(request)
    f = await form(request)
    title, digest, tags = f.get("wechat_title", ""), f.get("digest", ""), f.get("tags", "")
    problems = [(words.TITLE_TOO_LONG if p.field == "wechat_title" else words.DIGEST_TOO_LONG).format(n=p.length, max=p.limit)
                for p in too_long(title, digest)]
    if problems:  # refused with the count; the form keeps what the editor typed
        return await _show(request, (a, images), problems, {"wechat_title": title, "digest": digest, "tags": tags},
                           status=400)
    before = {"wechat_title": a.wechat_title, "digest": a.wechat_digest, "tags": list(a.tags or [])}
    edited = await edit_article(svc.db, a.id, svc.clock.now(), title, digest, tags)
    request.config_dict[FACETS].clear()  # its tags are offered as filters at once
    await audit(request, "article_edit", target_type="article", target_id=a.id, summary=edited.title[:100],
                before=before, after={"wechat_title": edited.wechat_title, "digest": edited.wechat_digest,
                                      "tags": edited.tags})
    raise await redirect(request, "article", words.ARTICLE_SAVED.format(id=a.id), id=a.id)


@page("/articles/{id}/cover", role="editor", method="POST", name="article_cover")
async def cover(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    a, _ = await _article(request)
    value = (await form(request)).get("image_id", "")
    try:
        edited = await set_cover(svc.db, a.id, int(value) if value.isdigit() else None, svc.clock.now())
    except ValueError:
        raise await redirect(request, "article", words.COVER_NOT_OWN, "error", id=a.id) from None
    await audit(request, "article_cover", target_type="article", target_id=a.id,
                before={"cover_image_id": a.cover_image_id}, after={"cover_image_id": edited.cover_image_id})
    raise await redirect(request, "article", words.COVER_SAVED.format(id=a.id), id=a.id)


@page("/articles/{id}/ready", role="editor", method="POST", name="article_ready")
async def ready(request: web.Request) -> web.StreamResponse:
    a, _ = await _article(request)
    [o] = await mark_ready(services(request).db, [a.id])
    if o.outcome == "title_too_long":
        raise await redirect(request, "article", words.READY_NEEDS_TITLE.format(id=a.id, n=o.title_length, max=TITLE_CHARS),
                             "error", id=a.id)
    if o.outcome == "already":
        raise await redirect(request, "article", words.READY_ALREADY.format(id=a.id, status=texts.STATUS.get(o.status, o.status)),
                             "warn", id=a.id)
    await audit(request, "article_ready", target_type="article", target_id=a.id, before={"status": a.status},
                after={"status": "ready"})
    raise await redirect(request, "article", words.READY_DONE.format(id=a.id), id=a.id)


@page("/articles/image/{sha}", role="editor", name="article_image")
async def image(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    async with svc.db() as session:
        row = await session.scalar(select(Image).where(Image.sha256 == request.match_info["sha"]))
    path = svc.settings.path(svc.settings.content.media_dir) / row.path if row else None
    if path is None or not await asyncio.to_thread(path.is_file):
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": row.mime, "Cache-Control": "private, max-age=86400"})


def poll_rule(seconds: float | None, poll: str) -> str:
    """A source's `poll` as an office worker reads it: 每 30 分钟, or the cron expression named as one."""
    if seconds is None:
        return words.POLL_CRON.format(cron=poll)
    minutes = round(seconds / 60)
    if seconds < 60:
        span = f"{round(seconds)} 秒"
    elif minutes % 60:
        span = f"{minutes} 分钟"
    else:
        span = f"{minutes // 60} 小时"
    return words.POLL_EVERY.format(span=span)


async def _polled(request: web.Request) -> list[dict]:
    """Each polled source: its rule, what becomes of its new articles, its state and latest runs."""
    svc = services(request)
    polled = [s for s in svc.settings.sources if s.poll]
    if not polled:
        return []
    shown = {o.name: o for o in await source_overview(svc.db, [s.name for s in polled], 5)}
    return [{"source": s, "rule": poll_rule(s.poll_seconds, s.poll), "on_new": texts.ON_NEW[s.on_new],
             "state": shown[s.name].state, "runs": shown[s.name].runs} for s in polled]


@page("/imports", role="editor", name="imports")
async def imports(request: web.Request) -> web.Response:
    return await render(request, "imports.html", jobs=request.config_dict[JOBS].recent(), job=None,
                        sources=services(request).settings.sources, polled=await _polled(request))


@page("/imports", role="editor", method="POST", name="imports_start")
async def start(request: web.Request) -> web.StreamResponse:
    data = await request.post()
    url = str(data.get("url") or "").strip()
    file = data.get("file")
    source = str(data.get("source") or "") or None
    settings = services(request).settings
    if isinstance(file, web.FileField) and file.filename:
        content = await asyncio.to_thread(file.file.read)
        folder = settings.path(settings.content.media_dir).parent / "page-uploads"
        try:
            path = await asyncio.to_thread(stage_html, folder, content, file.filename)
        except ValueError as e:
            raise await redirect(request, "imports", str(e), "error") from None
        target, shown = str(path), file.filename
    elif url:
        if not url.startswith(("http://", "https://")):
            raise await redirect(request, "imports", words.IMPORT_NOT_URL.format(url=url), "error")
        target, shown = url, url
    else:
        raise await redirect(request, "imports", words.IMPORT_NOTHING, "error")
    job = request.config_dict[JOBS].start(target, by=editor(request).name, shown=shown, source=source)
    await audit(request, "article_import", target_type="import", target_id=job.id, summary=shown)
    raise await redirect(request, "import_job", words.IMPORT_STARTED, id=job.id)


@page("/imports/{id}", role="editor", name="import_job")
async def job(request: web.Request) -> web.Response:
    found = request.config_dict[JOBS].get(request.match_info["id"])
    if found is None:
        raise await redirect(request, "imports", words.IMPORT_GONE, "warn")
    resp = await render(request, "imports.html", jobs=request.config_dict[JOBS].recent(), job=found,
                        sources=services(request).settings.sources, polled=await _polled(request))
    if not found.done:
        resp.headers["Refresh"] = "2"  # the page follows the import without a script
    return resp
