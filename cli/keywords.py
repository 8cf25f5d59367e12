"""`main.py keywords list|add|remove|test`: the editors' keyword rules (store/keywords.py), and a trial
run of a text through the real routers (bot/trial.py)."""

from __future__ import annotations

import argparse

from bot.trial import explain
from cli import texts
from cli.run import with_services
from core.services import Services
from store import keywords
from wechat.replies import News, Text


def register(sub, common: argparse.ArgumentParser) -> None:
    kw = sub.add_parser("keywords", parents=[common], help=texts.KEYWORDS_HELP)
    kwsub = kw.add_subparsers(dest="keywords_command", required=True, metavar="ACTION")
    kwsub.add_parser("list", parents=[common], help=texts.KEYWORDS_LIST_HELP).set_defaults(func=with_services(_list))
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
    add.set_defaults(func=with_services(_add))
    rm = kwsub.add_parser("remove", parents=[common], help=texts.KEYWORDS_REMOVE_HELP)
    rm.add_argument("id", type=int, metavar="ID", help=texts.KEYWORDS_ID)
    rm.set_defaults(func=with_services(_remove))
    test = kwsub.add_parser("test", parents=[common], help=texts.KEYWORDS_TEST_HELP)
    test.add_argument("text", metavar="TEXT", help=texts.KEYWORDS_TEXT)
    test.set_defaults(func=with_services(_test))


async def _list(args, services: Services) -> int:
    rules = await keywords.list_rules(services)
    for r in rules:
        what = texts.KEYWORD_NEWS.format(title=r.title, url=r.url) if r.reply_type == "news" else r.reply
        print(texts.KEYWORD_LINE.format(id=r.id, priority=r.priority, match=texts.MATCH_NAMES.get(r.match, r.match),
                                        pattern=r.pattern, what=what))
    if not rules:
        print(texts.KEYWORDS_NONE)
    return 0


async def _add(args, services: Services) -> int:
    try:
        rule = await keywords.add_rule(services, args.match, args.pattern, args.reply, priority=args.priority,
                              title=args.news_title, url=args.url, picurl=args.picurl)
    except keywords.RuleError as e:
        print(texts.error(e))
        return 2
    print(texts.KEYWORD_ADDED.format(id=rule.id, match=texts.MATCH_NAMES[rule.match], pattern=rule.pattern))
    return 0


async def _remove(args, services: Services) -> int:
    if not await keywords.remove_rule(services, args.id):
        print(texts.error(texts.KEYWORD_NO_RULE.format(id=args.id)))
        return 1
    print(texts.KEYWORD_REMOVED.format(id=args.id))
    return 0


async def _test(args, services: Services) -> int:
    from app import ROUTERS

    found = await explain(services, ROUTERS, args.text)
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
