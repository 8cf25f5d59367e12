"""`main.py news …`: import the website's news, list/search/show articles, mark them ready, and set
their WeChat title and digest. Parsing and printing only: the rules are in store/content/articles.py
and the import in store/content/importer.py."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from cli.run import with_services
from core.clock import local_time, shown_time, zone_label
from core.services import Services
from store.content import texts
from store.content.articles import (
    article_with_images,
    edit_article,
    latest_articles,
    mark_ready,
    needs_wechat_title,
    too_long,
)
from store.content.extract import parse_date
from store.content.imports import run_import
from store.content.search import search_hits
from store.content.sources import source_overview
from store.models.content import Article
from wechat.limits import DIGEST_CHARS, TITLE_CHARS


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("news", parents=[common], help=texts.HELP)
    nsub = p.add_subparsers(dest="news_command", required=True, metavar="ACTION")

    imp = nsub.add_parser(
        "import", parents=[common], help=texts.IMPORT_HELP, description=texts.IMPORT_DESCRIPTION
    )
    imp.add_argument("target", metavar="URL_OR_PATH", help=texts.IMPORT_TARGET)
    imp.add_argument("--source", metavar="NAME", help=texts.IMPORT_SOURCE)
    imp.add_argument("--pages", type=int, metavar="N", help=texts.IMPORT_PAGES)
    imp.add_argument("--since", type=_date, metavar="DATE", help=texts.IMPORT_SINCE)
    imp.set_defaults(func=with_services(_import))

    ls = nsub.add_parser("list", parents=[common], help=texts.LIST_HELP)
    ls.add_argument("--status", type=_status, metavar="STATUS", help=texts.LIST_STATUS)
    ls.add_argument("--limit", type=int, default=30, metavar="N", help=texts.LIST_LIMIT)
    ls.set_defaults(func=with_services(_list))

    se = nsub.add_parser("search", parents=[common], help=texts.SEARCH_HELP)
    se.add_argument("query", metavar="QUERY", help=texts.SEARCH_QUERY)
    se.add_argument("--limit", type=int, default=20, metavar="N", help=texts.SEARCH_LIMIT)
    se.set_defaults(func=with_services(_search))

    ready = nsub.add_parser("ready", parents=[common], help=texts.READY_HELP)
    ready.add_argument("ids", type=int, nargs="+", metavar="ID", help=texts.ARTICLE_IDS)
    ready.set_defaults(func=with_services(_ready))

    ed = nsub.add_parser("edit", parents=[common], help=texts.EDIT_HELP)
    ed.add_argument("id", type=int, metavar="ID", help=texts.ARTICLE_ID)
    ed.add_argument("--wechat-title", metavar="TITLE", help=texts.EDIT_TITLE.format(max=TITLE_CHARS))
    ed.add_argument("--digest", metavar="TEXT", help=texts.EDIT_DIGEST.format(max=DIGEST_CHARS))
    ed.add_argument("--tags", metavar="TAGS", help=texts.EDIT_TAGS)
    ed.set_defaults(func=with_services(_edit))

    src = nsub.add_parser("sources", parents=[common], help=texts.SOURCES_HELP)
    src.add_argument("--runs", type=int, default=5, metavar="N", help=texts.SOURCES_RUNS)
    src.set_defaults(func=with_services(_sources))

    show = nsub.add_parser("show", parents=[common], help=texts.SHOW_HELP)
    show.add_argument("id", type=int, metavar="ID", help=texts.ARTICLE_ID)
    show.set_defaults(func=with_services(_show))


def _date(text: str) -> date:
    parsed = parse_date(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(texts.NOT_A_DATE.format(text=text))
    return parsed


def _status(text: str) -> str:
    """A status by its code (ready) or its name (可推送)."""
    for code, label in texts.STATUS.items():
        if text.strip() in (code, label):
            return code
    choices = "、".join(texts.STATUS.values())
    raise argparse.ArgumentTypeError(texts.NOT_A_STATUS.format(text=text, choices=choices))


def _line(a: Article) -> str:
    flag = texts.TITLE_FLAG.format(max=TITLE_CHARS, id=a.id) if needs_wechat_title(a) else ""
    return texts.LINE.format(id=a.id, date=a.published_at.isoformat() if a.published_at else texts.NO_DATE,
                             status=texts.STATUS.get(a.status, a.status), title=a.wechat_title or a.title, flag=flag)


async def _import(args, services: Services) -> int:
    try:
        # A progress bar only for a person watching: in a pipe or a log it would be escape codes.
        report = await run_import(services.settings, services.db, services.clock, args.target, source=args.source,
                                  pages=args.pages, since=args.since, progress=sys.stderr.isatty())
    except ValueError as e:  # an unknown --source
        known = "、".join(s.name for s in services.settings.sources) or texts.NO_SOURCES
        message = texts.UNKNOWN_SOURCE.format(name=args.source, known=known) if args.source else e
        print(texts.error(message))
        return 2
    print(texts.import_summary(report))
    done = report.added or report.updated or report.unchanged or report.skipped
    return 0 if done or not report.failed else 1


async def _list(args, services: Services) -> int:
    articles = await latest_articles(services.db, args.status, args.limit)
    for a in articles:
        print(_line(a))
    if not articles:
        print(texts.NO_ARTICLES)
    return 0


async def _search(args, services: Services) -> int:
    async with services.db() as session:
        hits = await search_hits(session, args.query, args.limit)
    for h in hits:
        print(_line(h.article) + ("" if h.in_title else texts.IN_BODY))
    if not hits:
        print(texts.NOTHING_FOUND.format(query=args.query))
    return 0


async def _ready(args, services: Services) -> int:
    failed = 0
    for o in await mark_ready(services.db, args.ids):
        if o.outcome == "ready":
            print(texts.READY.format(id=o.article_id))
        elif o.outcome == "already":
            print(texts.ALREADY.format(id=o.article_id, status=texts.STATUS.get(o.status, o.status)))
        else:
            failed += 1
            print(texts.NO_ARTICLE.format(id=o.article_id) if o.outcome == "missing" else
                  texts.TITLE_TOO_LONG.format(id=o.article_id, length=o.title_length, max=TITLE_CHARS))  # fmt: skip
    return 1 if failed else 0


async def _edit(args, services: Services) -> int:
    problems = too_long(args.wechat_title, args.digest)
    for p in problems:
        print(texts.error(texts.FIELD_TOO_LONG.format(field=texts.FIELD_NAMES[p.field], length=p.length, max=p.limit)))
    if problems:
        return 2
    a = await edit_article(services.db, args.id, services.clock.now(), args.wechat_title, args.digest, args.tags)
    if a is None:
        print(texts.error(texts.NO_SUCH_ARTICLE.format(id=args.id)))
        return 1
    print(_line(a))
    return 0


async def _show(args, services: Services) -> int:
    found = await article_with_images(services.db, args.id)
    if found is None:
        print(texts.error(texts.NO_SUCH_ARTICLE.format(id=args.id)))
        return 1
    a, images = found
    values = {
        "id": a.id, "title": a.title, "wechat_title": a.wechat_title or "", "date": a.published_at or "",
        "source": a.source_name, "author": a.author, "url": a.source_url,
        "status": texts.STATUS.get(a.status, a.status), "tags": "、".join(a.tags or []), "digest": a.digest,
        "wechat_digest": a.wechat_digest or "", "wechat_url": a.wechat_url or "",
        "updated": shown_time(a.updated_at, services.settings.scheduler.timezone, "%Y-%m-%d %H:%M:%S"),
    }  # fmt: skip
    for key, value in values.items():
        print(f"{texts.SHOW_FIELDS[key]}：{value}")
    for i, img in enumerate(images, 1):
        print(texts.IMAGE_LINE.format(n=i, path=img.path, width=img.width, height=img.height, size=img.size,
                                      cover=texts.COVER if img.id == a.cover_image_id else "", url=img.original_url))
    print()
    print(a.body_text)
    return 0


async def _sources(args, services: Services) -> int:
    polled = [s for s in services.settings.sources if s.poll]
    if not polled:
        print(texts.NO_POLLED_SOURCES)
        return 0
    tz = services.settings.scheduler.timezone
    shown = {o.name: o for o in await source_overview(services.db, [s.name for s in polled], args.runs)}
    for source in polled:
        o = shown[source.name]
        print(texts.SOURCE_HEAD.format(name=source.name, url=source.poll_url, poll=source.poll,
                                       on_new=texts.ON_NEW[source.on_new]))
        if o.state is None or o.state.last_run_at is None:
            print(texts.SOURCE_NEVER)
            continue
        print(texts.SOURCE_STATE.format(
            next=shown_time(o.state.next_poll_at, tz) if o.state.next_poll_at else "-",
            ok=shown_time(o.state.last_ok_at, tz) if o.state.last_ok_at else "-"))
        if o.state.failures:
            print(texts.SOURCE_FAILING.format(n=o.state.failures))
        print(texts.SOURCE_RUNS_HEAD.format(zone=zone_label(tz)))
        for run in o.runs:
            at = local_time(run.started_at, tz, "%Y-%m-%d %H:%M:%S")
            if run.not_modified:
                print(texts.SOURCE_RUN_304.format(at=at, requests=run.requests))
            else:
                print(texts.SOURCE_RUN.format(at=at, found=run.found, added=run.added, updated=run.updated,
                                              failed=run.failed, queued=run.queued, requests=run.requests))
            if run.error:
                print(texts.SOURCE_RUN_ERROR.format(error=run.error))
    return 0
