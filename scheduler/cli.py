"""`main.py push …`: editors plan, inspect and steer pushes.

Which process does the WeChat work: `create`, `edit`, `approve`, `cancel`, `retry` and `compose` only
change the database; the running `serve` (its scheduler ticks every `tick_seconds`) then drafts,
previews, submits and tidies up. `push run` does that work once in this process instead (safe next to
a running `serve`: pushes are claimed). `withdraw` calls WeChat itself, to answer whether it worked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.config import Settings
from scheduler import compose, editing, planning, texts
from store.models.content import Article
from store.models.pushes import Notification, Push, PushEvent


def register(sub, common: argparse.ArgumentParser) -> None:
    push = sub.add_parser("push", parents=[common], help="plan, approve and inspect article pushes",
                          description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ps = push.add_subparsers(dest="push_command", required=True, metavar="ACTION")

    def options(p: argparse.ArgumentParser, required: bool) -> None:
        p.add_argument("--articles", required=required, help="article ids in order, e.g. 3,1,2 (1–8)")
        when = p.add_mutually_exclusive_group()
        when.add_argument("--at", help='pinned time "YYYY-MM-DD HH:MM" in [scheduler] timezone')
        when.add_argument("--next-slot", action="store_true", help="the next free slot (the default)")
        p.add_argument("--broadcast", action="store_true",
                       help="mass-send to followers (default: publish silently, freepublish)")
        p.add_argument("--tag", help="broadcast only to followers with this tag")
        p.add_argument("--preview", action="store_true", help="send a preview to [editors] openids first")
        link = p.add_mutually_exclusive_group()
        link.add_argument("--source-url", help="阅读原文 link for every article (default: each article's source)")
        link.add_argument("--no-source-url", action="store_true", help="no 阅读原文 link")
        p.add_argument("--comments", action="store_true", help="open comments")
        p.add_argument("--fans-only", action="store_true", help="only followers may comment")
        p.add_argument("--send-ignore-reprint", action="store_true",
                       help="broadcast even when judged a reprint (if the original allows reprinting)")

    p = ps.add_parser("create", parents=[common], help="plan a push (drafted by serve / push run)")
    options(p, True)
    p.set_defaults(func=_run(_create))
    p = ps.add_parser("edit", parents=[common], help="change a push before it is submitted (redrafts)")
    p.add_argument("id", type=int)
    options(p, False)
    p.set_defaults(func=_run(_edit))
    p = ps.add_parser("list", parents=[common], help="pushes, newest first, with waiting notices")
    p.add_argument("--json", action="store_true")
    p.add_argument("-n", type=int, default=50, help="how many (default 50)")
    p.set_defaults(func=_run(_list))
    p = ps.add_parser("show", parents=[common], help="one push with its timeline and notices")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run(_show))
    for name, text in (("approve", "approve a drafted push (or send a missed one now)"),
                       ("cancel", "cancel a push that is not submitted yet"),
                       ("retry", "send a failed push again (next attempt)"),
                       ("withdraw", "delete a done push from WeChat (irreversible)")):
        p = ps.add_parser(name, parents=[common], help=text)
        p.add_argument("id", type=int)
        p.set_defaults(func=_run(_action), action=name)
    p = ps.add_parser("compose", parents=[common], help="run auto-drafting now")
    p.set_defaults(func=_run(_compose))
    p = ps.add_parser("run", parents=[common], help="do the due pipeline work now in this process")
    p.set_defaults(func=_run(_tick))


def _run(coro_fn):
    def command(args, settings: Settings) -> int:
        from bot.app import open_services

        async def main() -> int:
            async with open_services(settings) as services:
                try:
                    return await coro_fn(args, services) or 0
                except (editing.EditError, planning.PlanningError) as e:
                    print(f"错误：{e}", file=sys.stderr)
                    return 1

        return asyncio.run(main())

    return command


def _spec(args, settings: Settings, base: Push | None = None) -> editing.PushSpec:
    ids = editing.parse_ids(args.articles) if args.articles else [a.article_id for a in base.articles]
    kind = "broadcast" if args.broadcast else ("publish" if base is None else base.kind)
    source_url = "" if args.no_source_url else args.source_url
    if source_url is None and base is not None:
        source_url = base.source_url
    return editing.PushSpec(
        article_ids=ids, kind=kind, at=planning.parse_local(args.at, settings) if args.at else None,
        tag=args.tag or (base.tag_name if base else None), preview=args.preview or bool(base and base.preview),
        source_url=source_url, open_comment=args.comments or bool(base and base.open_comment),
        fans_only_comment=args.fans_only or bool(base and base.fans_only_comment),
        send_ignore_reprint=args.send_ignore_reprint or bool(base and base.send_ignore_reprint),
    )


async def _create(args, services) -> int:
    push = await editing.create(services, _spec(args, services.settings))
    extra = "，需预览" if push.preview else ""
    print(texts.CLI_CREATED.format(id=push.id, kind=texts.KIND[push.kind], count=len(push.articles),
                                   at=planning.show(push.planned_at, services.settings),
                                   zone=services.settings.scheduler.timezone, extra=extra))
    print(texts.CLI_NEEDS_SERVE)
    return 0


async def _edit(args, services) -> int:
    base = await editing.get(services, args.id)
    before = base.state
    push = await editing.edit(services, args.id, _spec(args, services.settings, base))
    redraft = push.state == "planned" and before != "planned"
    print(texts.CLI_EDITED.format(id=push.id, redraft=texts.CLI_REDRAFT if redraft else ""))
    return 0


async def _action(args, services) -> int:
    fn = getattr(editing, args.action)
    push = await fn(services, args.id)
    message = {"approve": texts.CLI_APPROVED, "cancel": texts.CLI_CANCELLED, "retry": texts.CLI_RETRY,
               "withdraw": texts.CLI_WITHDRAWN}[args.action]
    print(message.format(id=push.id, attempt=push.attempt))
    return 0


async def _compose(args, services) -> int:
    push = await compose.compose(services)
    if push is None:
        print(texts.CLI_NOTHING_TO_COMPOSE)
        return 0
    print(texts.CLI_COMPOSED.format(id=push.id, count=len(push.articles),
                                    at=planning.show(push.planned_at, services.settings)))
    return 0


async def _tick(args, services) -> int:
    from scheduler.service import Runner

    n = await Runner(services).tick()
    print(f"处理了 {n} 个到期的推送")
    return 0


def _summary(push: Push, settings: Settings) -> dict:
    return {
        "id": push.id, "kind": push.kind, "state": push.state, "state_text": texts.STATE.get(push.state, push.state),
        "planned_at": planning.show(push.planned_at, settings), "pinned": push.pinned,
        "articles": [a.article_id for a in push.articles], "tag": push.tag_name, "preview": push.preview,
        "approved_by": push.approved_by, "attempt": push.attempt, "media_id": push.media_id,
        "publish_id": push.publish_id, "msg_id": push.msg_id, "clientmsgid": push.clientmsgid,
        "error_code": push.error_code, "error_reason": push.error_reason,
    }


async def _list(args, services) -> int:
    settings = services.settings
    async with services.db() as s:
        pushes = list((await s.scalars(select(Push).options(selectinload(Push.articles))
                                       .order_by(Push.planned_at.desc(), Push.id.desc()).limit(args.n))).all())
        waiting = dict((await s.execute(
            select(Notification.push_id, func.count()).where(Notification.status.in_(("pending", "sending", "held")))
            .group_by(Notification.push_id))).all())
        notes = list((await s.scalars(select(Notification).where(
            Notification.status.in_(("pending", "sending", "held", "failed"))).order_by(Notification.id))).all())
    if args.json:
        rows = [{**_summary(p, settings), "notices_waiting": waiting.get(p.id, 0)} for p in pushes]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not pushes:
        print("还没有推送")
    for p in pushes:
        err = f"  ✗ {p.error_reason}" if p.error_reason else ""
        print(f"#{p.id:<5} {texts.KIND[p.kind]} {planning.show(p.planned_at, settings)}{' 📌' if p.pinned else ''}"
              f"  {len(p.articles)} 篇  {texts.STATE.get(p.state, p.state)}{err}")
    if notes:
        print("\n未送达的编辑通知（会在编辑下一次发消息时作为回复送达）：")
        for n in notes:
            print(f"  #{n.push_id} → {n.openid} [{n.status}] {n.text.splitlines()[0]}")
    return 0


async def _show(args, services) -> int:
    settings = services.settings
    push = await editing.get(services, args.id)
    async with services.db() as s:
        events = list((await s.scalars(select(PushEvent).where(PushEvent.push_id == push.id)
                                       .order_by(PushEvent.at, PushEvent.id))).all())
        notes = list((await s.scalars(select(Notification).where(Notification.push_id == push.id)
                                      .order_by(Notification.id))).all())
        ids = [a.article_id for a in push.articles]
        titles = {a.id: a.wechat_title or a.title
                  for a in (await s.scalars(select(Article).where(Article.id.in_(ids)))).all()}
    if args.json:
        out = _summary(push, settings)
        out["timeline"] = [{"at": planning.show(e.at, settings), "kind": e.kind, "state": e.state,
                            "detail": e.detail, "data": e.data} for e in events]
        out["notices"] = [{"openid": n.openid, "kind": n.kind, "status": n.status, "text": n.text} for n in notes]
        out["article_urls"] = [a.url for a in push.articles]
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"推送 #{push.id}：{texts.KIND[push.kind]}{'（标签 ' + push.tag_name + '）' if push.tag_name else ''}"
          f"，{texts.STATE.get(push.state, push.state)}")
    print(f"计划时间：{planning.show(push.planned_at, settings)}（{settings.scheduler.timezone}）"
          f"{'，编辑指定' if push.pinned else ''}；第 {push.attempt} 次尝试")
    if push.error_reason:
        print(f"原因：{push.error_reason}")
    for key in ("media_id", "publish_id", "msg_id", "clientmsgid", "article_id"):
        if getattr(push, key):
            print(f"{key}: {getattr(push, key)}")
    print("文章：")
    for link in push.articles:
        print(f"  {link.position + 1}. #{link.article_id} {titles.get(link.article_id, '（已删除）')}"
              f"{'  ' + link.url if link.url else ''}")
    print("时间线：")
    for e in events:
        print(f"  {planning.show(e.at, settings)} [{e.kind}] {e.detail}")
    if notes:
        print("编辑通知：")
        for n in notes:
            print(f"  {n.openid} [{n.status}] {n.kind}: {n.text.splitlines()[0]}")
    return 0
