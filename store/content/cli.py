"""`main.py news …`: import the website's news, list/search/show articles, mark them ready, and set
their WeChat title and digest."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date

import aiohttp
from sqlalchemy import select

from bot.clock import Clock
from bot.config import Settings
from store.content.extract import parse_date
from store.content.importer import Importer
from store.content.render import DIGEST_MAX, TITLE_MAX
from store.content.search import search_hits
from store.db import SessionFactory, make_engine, make_session_factory
from store.models.content import ARTICLE_STATUSES, Article, ArticleImage, Image


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "news", parents=[common], help="the content store: import, list, search, edit articles"
    )
    nsub = p.add_subparsers(dest="news_command", required=True, metavar="ACTION")

    imp = nsub.add_parser(
        "import",
        parents=[common],
        help="import a listing (and its pages), one article page, a saved HTML file or a folder",
        description="Follow a news listing through its pagination to the article pages, or import one "
        "page / file / folder. Failed pages are reported and the rest imported; re-importing an "
        "unchanged page changes nothing. Exits 1 when every page failed.",
    )
    imp.add_argument("target", metavar="URL_OR_PATH")
    imp.add_argument("--source", metavar="NAME", help="use this [[sources]] entry's selectors")
    imp.add_argument("--pages", type=int, metavar="N", help="follow at most N listing pages")
    imp.add_argument(
        "--since", type=_date, metavar="DATE", help="skip articles dated before DATE (2024-03-14)"
    )
    imp.set_defaults(func=_run(_import))

    ls = nsub.add_parser("list", parents=[common], help="the newest articles")
    ls.add_argument("--status", choices=ARTICLE_STATUSES)
    ls.add_argument("--limit", type=int, default=30)
    ls.set_defaults(func=_run(_list))

    se = nsub.add_parser("search", parents=[common], help="search titles and bodies (Chinese words)")
    se.add_argument("query")
    se.add_argument("--limit", type=int, default=20)
    se.set_defaults(func=_run(_search))

    ready = nsub.add_parser("ready", parents=[common], help="mark imported articles ready for pushing")
    ready.add_argument("ids", type=int, nargs="+", metavar="ID")
    ready.set_defaults(func=_run(_ready))

    ed = nsub.add_parser("edit", parents=[common], help="set an article's WeChat title, digest or tags")
    ed.add_argument("id", type=int, metavar="ID")
    ed.add_argument(
        "--wechat-title", help=f"the title on WeChat (at most {TITLE_MAX} characters); '' clears it"
    )
    ed.add_argument("--digest", help=f"the digest on WeChat (at most {DIGEST_MAX} characters); '' clears it")
    ed.add_argument("--tags", help="comma-separated tags (replaces the current ones)")
    ed.set_defaults(func=_run(_edit))

    show = nsub.add_parser("show", parents=[common], help="one article in full")
    show.add_argument("id", type=int, metavar="ID")
    show.set_defaults(func=_run(_show))


def _date(text: str) -> date:
    parsed = parse_date(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (write 2024-03-14 or 2024年3月14日)")
    return parsed


def _run(command):
    def func(args, settings: Settings) -> int:
        async def main() -> int:
            engine = make_engine(settings.database_url)
            try:
                return await command(args, settings, make_session_factory(engine))
            finally:
                await engine.dispose()

        return asyncio.run(main())

    return func


def _line(a: Article) -> str:
    when = a.published_at.isoformat() if a.published_at else "----------"
    flag = " [title > 32: set --wechat-title]" if len(a.title) > TITLE_MAX and not a.wechat_title else ""
    return f"{a.id:>6}  {when}  {a.status:<9} {a.wechat_title or a.title}{flag}"


async def _import(args, settings: Settings, db: SessionFactory) -> int:
    async with aiohttp.ClientSession() as http:
        importer = Importer(settings, db, Clock(), http, progress=True)
        try:
            report = await importer.run(args.target, source=args.source, pages=args.pages, since=args.since)
        except ValueError as e:  # an unknown --source
            print(f"error: {e}")
            return 2
    print(report.summary())
    done = report.added or report.updated or report.unchanged or report.skipped
    return 0 if done or not report.failed else 1


async def _list(args, settings: Settings, db: SessionFactory) -> int:
    async with db() as session:
        stmt = select(Article).order_by(Article.published_at.desc(), Article.id.desc()).limit(args.limit)
        if args.status:
            stmt = stmt.where(Article.status == args.status)
        articles = (await session.execute(stmt)).scalars().all()
    for a in articles:
        print(_line(a))
    if not articles:
        print("no articles")
    return 0


async def _search(args, settings: Settings, db: SessionFactory) -> int:
    async with db() as session:
        hits = await search_hits(session, args.query, args.limit)
    for h in hits:
        print(_line(h.article) + ("" if h.in_title else "  (in body)"))
    if not hits:
        print(f"nothing found for {args.query!r}")
    return 0


async def _ready(args, settings: Settings, db: SessionFactory) -> int:
    failed = 0
    async with db() as session, session.begin():
        for article_id in args.ids:
            a = await session.get(Article, article_id)
            if a is None:
                print(f"{article_id}: no such article")
                failed += 1
            elif len(a.title) > TITLE_MAX and not a.wechat_title:
                print(f"{article_id}: title is {len(a.title)} characters (WeChat allows {TITLE_MAX}); "
                      f"set one first: news edit {article_id} --wechat-title …")  # fmt: skip
                failed += 1
            elif a.status != "imported":
                print(f"{article_id}: already {a.status}")
            else:
                a.status = "ready"
                print(f"{article_id}: ready")
    return 1 if failed else 0


async def _edit(args, settings: Settings, db: SessionFactory) -> int:
    if args.wechat_title is not None and len(args.wechat_title.strip()) > TITLE_MAX:
        print(
            f"error: --wechat-title is {len(args.wechat_title.strip())} characters; WeChat allows {TITLE_MAX}"
        )
        return 2
    if args.digest is not None and len(args.digest.strip()) > DIGEST_MAX:
        print(f"error: --digest is {len(args.digest.strip())} characters; WeChat allows {DIGEST_MAX}")
        return 2
    async with db() as session, session.begin():
        a = await session.get(Article, args.id)
        if a is None:
            print(f"error: no article {args.id}")
            return 1
        if args.wechat_title is not None:
            a.wechat_title = args.wechat_title.strip() or None
        if args.digest is not None:
            a.wechat_digest = args.digest.strip() or None
        if args.tags is not None:
            a.tags = [t.strip() for t in args.tags.replace("，", ",").split(",") if t.strip()]
        a.updated_at = Clock().now()
    print(_line(a))
    return 0


async def _show(args, settings: Settings, db: SessionFactory) -> int:
    async with db() as session:
        a = await session.get(Article, args.id)
        if a is None:
            print(f"error: no article {args.id}")
            return 1
        images = (
            await session.execute(
                select(Image).join(ArticleImage, ArticleImage.image_id == Image.id)
                .where(ArticleImage.article_id == a.id).order_by(ArticleImage.position)
            )
        ).scalars().all()  # fmt: skip
    fields = [
        ("id", a.id), ("title", a.title), ("wechat title", a.wechat_title or ""), ("date", a.published_at or ""),
        ("source", a.source_name), ("author", a.author), ("url", a.source_url), ("status", a.status),
        ("tags", ", ".join(a.tags or [])), ("digest", a.digest), ("wechat digest", a.wechat_digest or ""),
        ("wechat url", a.wechat_url or ""), ("updated", a.updated_at.isoformat(timespec="seconds")),
    ]  # fmt: skip
    for name, value in fields:
        print(f"{name:>13}: {value}")
    for i, img in enumerate(images):
        cover = " (cover)" if img.id == a.cover_image_id else ""
        print(
            f"{'image ' + str(i + 1):>13}: {img.path} {img.width}x{img.height} {img.size} B{cover} ← {img.original_url}"
        )
    print()
    print(a.body_text)
    return 0
