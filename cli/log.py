"""`main.py log tail` and `main.py followers forget`: the message log, and erasing a follower's data
on request (bot/messagelog.py)."""

from __future__ import annotations

import argparse

from bot.messagelog import forget, tail
from cli import texts
from cli.run import with_services
from core.clock import local_time, zone_label
from core.services import Services


def register(sub, common: argparse.ArgumentParser) -> None:
    logp = sub.add_parser("log", parents=[common], help=texts.LOG_HELP)
    logsub = logp.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    tail = logsub.add_parser("tail", parents=[common], help=texts.LOG_TAIL_HELP)
    tail.add_argument("-n", type=int, default=20, metavar="N", help=texts.LOG_N)
    tail.add_argument("--openid", help=texts.LOG_OPENID)
    tail.set_defaults(func=with_services(_tail))

    fl = sub.add_parser("followers", parents=[common], help=texts.FOLLOWERS_HELP)
    flsub = fl.add_subparsers(dest="followers_command", required=True, metavar="ACTION")
    forget = flsub.add_parser("forget", parents=[common], help=texts.FORGET_HELP)
    forget.add_argument("openid", metavar="OPENID", help=texts.FORGET_OPENID)
    forget.set_defaults(func=with_services(_forget))


async def _tail(args, services: Services) -> int:
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
    erased = await forget(services, args.openid)
    print(texts.FORGOTTEN.format(openid=args.openid, count=erased))
    return 0
