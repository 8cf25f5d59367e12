"""Commands for the webhook's data: `keywords list|add|remove|test`, `log tail`, `followers forget`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from bot.config import Settings
from bot.context import Services


def register(sub, common: argparse.ArgumentParser) -> None:
    kw = sub.add_parser("keywords", parents=[common], help="editors' keyword → reply rules (live, no restart)")
    kwsub = kw.add_subparsers(dest="keywords_command", required=True, metavar="ACTION")
    kwsub.add_parser("list", parents=[common], help="list the rules in the order they are tried") \
        .set_defaults(func=_run(_list))
    add = kwsub.add_parser(
        "add", parents=[common], help="add a rule",
        description="Add a keyword rule; a running bot answers with it within a second. Rules are "
        "tried by priority (lower first), then exact, prefix, contains, regex.",
    )
    add.add_argument("--match", choices=["exact", "prefix", "contains", "regex"], default="exact")
    add.add_argument("pattern", metavar="PATTERN")
    add.add_argument("--reply", required=True, help="the text (for news: the article's description)")
    add.add_argument("--priority", type=int, default=100, help="lower is tried first (default 100)")
    add.add_argument("--news-title", default="", help="reply with a news article with this title")
    add.add_argument("--url", default="", help="the news article's link")
    add.add_argument("--picurl", default="", help="the news article's picture")
    add.set_defaults(func=_run(_add))
    rm = kwsub.add_parser("remove", parents=[common], help="remove a rule by id (seeding will not bring it back)")
    rm.add_argument("id", type=int)
    rm.set_defaults(func=_run(_remove))
    test = kwsub.add_parser("test", parents=[common], help="show which rule answers a text and what it says")
    test.add_argument("text")
    test.set_defaults(func=_run(_test))

    logp = sub.add_parser("log", parents=[common], help="the message log")
    logsub = logp.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    tail = logsub.add_parser("tail", parents=[common], help="the latest messages and replies")
    tail.add_argument("-n", type=int, default=20, help="how many entries (default 20)")
    tail.add_argument("--openid", help="only this follower")
    tail.set_defaults(func=_run(_tail))

    fl = sub.add_parser("followers", parents=[common], help="follower records")
    flsub = fl.add_subparsers(dest="followers_command", required=True, metavar="ACTION")
    forget = flsub.add_parser("forget", parents=[common], help="erase a follower's messages and state")
    forget.add_argument("openid")
    forget.set_defaults(func=_run(_forget))


def _run(command: Callable[[argparse.Namespace, Services], Awaitable[int]]):
    def func(args, settings: Settings) -> int:
        from bot.app import open_services

        async def main() -> int:
            async with open_services(settings) as services:
                return await command(args, services)

        return asyncio.run(main())

    return func


async def _list(args, services: Services) -> int:
    from handlers.keywords import list_rules

    rules = await list_rules(services)
    for r in rules:
        what = f"news《{r.title}》{r.url}" if r.reply_type == "news" else r.reply
        print(f"#{r.id:<4} p{r.priority:<4} {r.match:<8} {r.pattern!r:<24} → {what}")
    if not rules:
        print("no keyword rules")
    return 0


async def _add(args, services: Services) -> int:
    from handlers.keywords import RuleError, add_rule

    try:
        rule = await add_rule(services, args.match, args.pattern, args.reply, priority=args.priority,
                              title=args.news_title, url=args.url, picurl=args.picurl)
    except RuleError as e:
        print(f"error: {e}")
        return 2
    print(f"added rule #{rule.id}: {rule.match} {rule.pattern!r}")
    return 0


async def _remove(args, services: Services) -> int:
    from handlers.keywords import remove_rule

    if not await remove_rule(services, args.id):
        print(f"error: no rule #{args.id}")
        return 1
    print(f"removed rule #{args.id}")
    return 0


async def _test(args, services: Services) -> int:
    from handlers.keywords import explain

    for line in await explain(services, args.text):
        print(line)
    return 0


async def _tail(args, services: Services) -> int:
    from bot.messagelog import tail

    for row in await tail(services, args.n, args.openid):
        arrow = "→" if row.direction == "in" else "←"
        timing = f" {row.elapsed_ms:.1f} ms" if row.elapsed_ms is not None else ""
        print(f"{row.at:%Y-%m-%d %H:%M:%S} {arrow} {row.openid} [{row.channel} {row.msg_type}{timing}] "
              f"{row.content}")
    return 0


async def _forget(args, services: Services) -> int:
    from bot.messagelog import forget

    erased = await forget(services, args.openid)
    print(f"forgot {args.openid}: {erased} log entries, follower record and conversation state erased")
    return 0
