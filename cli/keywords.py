"""Commands for the webhook's data: `keywords list|add|remove|test`, `log tail`, `followers forget`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from bot.context import Services
from cli import texts
from core.clock import local_time, zone_label
from core.config import Settings


def register(sub, common: argparse.ArgumentParser) -> None:
    kw = sub.add_parser("keywords", parents=[common], help=texts.KEYWORDS_HELP)
    kwsub = kw.add_subparsers(dest="keywords_command", required=True, metavar="ACTION")
    kwsub.add_parser("list", parents=[common], help=texts.KEYWORDS_LIST_HELP).set_defaults(func=_run(_list))
    add = kwsub.add_parser(
        "add", parents=[common], help=texts.KEYWORDS_ADD_HELP, description=texts.KEYWORDS_ADD_DESCRIPTION
    )
    add.add_argument("--match", choices=["exact", "prefix", "contains", "regex"], default="exact",
                     help=texts.KEYWORDS_MATCH)
    add.add_argument("pattern", metavar="PATTERN", help=texts.KEYWORDS_PATTERN)
    add.add_argument("--reply", required=True, metavar="TEXT", help=texts.KEYWORDS_REPLY)
    add.add_argument("--priority", type=int, default=100, metavar="N", help=texts.KEYWORDS_PRIORITY)
    add.add_argument("--news-title", default="", metavar="TITLE", help=texts.KEYWORDS_NEWS_TITLE)
    add.add_argument("--url", default="", help=texts.KEYWORDS_URL)
    add.add_argument("--picurl", default="", metavar="URL", help=texts.KEYWORDS_PICURL)
    add.set_defaults(func=_run(_add))
    rm = kwsub.add_parser("remove", parents=[common], help=texts.KEYWORDS_REMOVE_HELP)
    rm.add_argument("id", type=int, metavar="ID", help=texts.KEYWORDS_ID)
    rm.set_defaults(func=_run(_remove))
    test = kwsub.add_parser("test", parents=[common], help=texts.KEYWORDS_TEST_HELP)
    test.add_argument("text", metavar="TEXT", help=texts.KEYWORDS_TEXT)
    test.set_defaults(func=_run(_test))

    logp = sub.add_parser("log", parents=[common], help=texts.LOG_HELP)
    logsub = logp.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    tail = logsub.add_parser("tail", parents=[common], help=texts.LOG_TAIL_HELP)
    tail.add_argument("-n", type=int, default=20, metavar="N", help=texts.LOG_N)
    tail.add_argument("--openid", help=texts.LOG_OPENID)
    tail.set_defaults(func=_run(_tail))

    fl = sub.add_parser("followers", parents=[common], help=texts.FOLLOWERS_HELP)
    flsub = fl.add_subparsers(dest="followers_command", required=True, metavar="ACTION")
    forget = flsub.add_parser("forget", parents=[common], help=texts.FORGET_HELP)
    forget.add_argument("openid", metavar="OPENID", help=texts.FORGET_OPENID)
    forget.set_defaults(func=_run(_forget))


def _run(command: Callable[[argparse.Namespace, Services], Awaitable[int]]):
    def func(args, settings: Settings) -> int:
        from app import open_services

        async def main() -> int:
            async with open_services(settings) as services:
                return await command(args, services)

        return asyncio.run(main())

    return func


async def _list(args, services: Services) -> int:
    from handlers.keywords import list_rules

    rules = await list_rules(services)
    for r in rules:
        what = texts.KEYWORD_NEWS.format(title=r.title, url=r.url) if r.reply_type == "news" else r.reply
        print(texts.KEYWORD_LINE.format(id=r.id, priority=r.priority, match=texts.MATCH_NAMES.get(r.match, r.match),
                                        pattern=r.pattern, what=what))
    if not rules:
        print(texts.KEYWORDS_NONE)
    return 0


async def _add(args, services: Services) -> int:
    from handlers.keywords import RuleError, add_rule

    try:
        rule = await add_rule(services, args.match, args.pattern, args.reply, priority=args.priority,
                              title=args.news_title, url=args.url, picurl=args.picurl)
    except RuleError as e:
        print(texts.error(e))
        return 2
    print(texts.KEYWORD_ADDED.format(id=rule.id, match=texts.MATCH_NAMES[rule.match], pattern=rule.pattern))
    return 0


async def _remove(args, services: Services) -> int:
    from handlers.keywords import remove_rule

    if not await remove_rule(services, args.id):
        print(texts.error(texts.KEYWORD_NO_RULE.format(id=args.id)))
        return 1
    print(texts.KEYWORD_REMOVED.format(id=args.id))
    return 0


async def _test(args, services: Services) -> int:
    from handlers.keywords import explain
    from wechat.replies import News, Text

    found = await explain(services, args.text)
    if found.rule is None:
        print(texts.TEST_NO_RULE.format(text=args.text))
        return 0
    print(texts.TEST_RULE.format(text=args.text, rule=texts.rule_name(found.rule)))
    if not found.ran:
        print(texts.TEST_BUILT_IN)
    elif isinstance(found.reply, Text):
        print(texts.TEST_SAYS.format(content=found.reply.content))
    elif isinstance(found.reply, News):
        for a in found.reply.articles:
            print(texts.TEST_NEWS.format(title=a.title, url=a.url, description=a.description))
    return 0


async def _tail(args, services: Services) -> int:
    from bot.messagelog import tail

    zone = services.settings.scheduler.timezone
    rows = await tail(services, args.n, args.openid)
    if rows:
        print(texts.LOG_HEADER.format(zone=zone_label(zone)))
    for row in rows:
        timing = texts.LOG_TIMING.format(ms=row.elapsed_ms) if row.elapsed_ms is not None else ""
        print(texts.LOG_LINE.format(
            at=local_time(row.at, zone, "%Y-%m-%d %H:%M:%S"), arrow="→" if row.direction == "in" else "←",
            openid=row.openid, channel=texts.LOG_CHANNELS.get(row.channel, row.channel), type=row.msg_type,
            timing=timing, content=row.content))  # fmt: skip
    return 0


async def _forget(args, services: Services) -> int:
    from bot.messagelog import forget

    erased = await forget(services, args.openid)
    print(texts.FORGOTTEN.format(openid=args.openid, count=erased))
    return 0
