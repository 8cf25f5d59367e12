"""`main.py push …`: editors plan, inspect and steer pushes. A face over scheduler/editing.py (the
operations and their rules) and scheduler/report.py (what is shown); the words are scheduler/texts.py.

Which process does the WeChat work: `create`, `edit`, `approve`, `send-now`, `cancel`, `retry` and
`ack` only change the database; the running `serve` then drafts, previews, submits and tidies up.
`push run` does that work once in this process instead (safe next to a running `serve`: pushes are
claimed). `preview` and `withdraw` call WeChat themselves, to answer whether it worked.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from cli.run import with_services
from core.config import Settings
from scheduler import compose, editing, planning, report, texts
from store import audit


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, texts.HELP_USAGE if prefix is None else prefix)


def _parser(sub, name: str, help: str, description: str | None = None,
            config: bool = True) -> tuple[argparse.ArgumentParser, ...]:
    """A parser with Chinese headings and errors: (parser, its positionals group, its options group)."""
    p = sub.add_parser(name, help=help, description=description or help, add_help=False, formatter_class=_Formatter)
    positionals = p.add_argument_group(texts.HELP_POSITIONALS)
    opts = p.add_argument_group(texts.HELP_OPTIONS)
    opts.add_argument("-h", "--help", action="help", help=texts.HELP_H)
    if config:  # on each action only: a subcommand's default would override one given before it
        opts.add_argument("--config", default="config.toml", metavar="文件", help=texts.HELP_CONFIG)
        opts.add_argument("--as", dest="as_name", metavar="姓名", help=texts.HELP_AS)
    return p, positionals, opts


def register(sub, common: argparse.ArgumentParser) -> None:
    push, _, _ = _parser(sub, "push", texts.HELP_PUSH, texts.DESCRIPTION, config=False)
    ps = push.add_subparsers(dest="push_command", required=True, metavar="操作", title=texts.HELP_ACTIONS,
                             help=texts.HELP_ACTIONS_LINE)
    cmd = texts.HELP_CMD

    def options(o, required: bool) -> None:
        o.add_argument("--articles", required=required, metavar="编号", help=texts.HELP_ARTICLES)
        when = o.add_mutually_exclusive_group()
        when.add_argument("--at", metavar="时间", help=texts.HELP_AT)
        when.add_argument("--next-slot", action="store_true", help=texts.HELP_NEXT_SLOT)
        o.add_argument("--broadcast", action="store_true", help=texts.HELP_BROADCAST)
        o.add_argument("--tag", metavar="标签", help=texts.HELP_TAG)
        o.add_argument("--preview", action="store_true", help=texts.HELP_PREVIEW)
        link = o.add_mutually_exclusive_group()
        link.add_argument("--source-url", metavar="链接", help=texts.HELP_SOURCE_URL)
        link.add_argument("--no-source-url", action="store_true", help=texts.HELP_NO_SOURCE_URL)
        o.add_argument("--comments", action="store_true", help=texts.HELP_COMMENTS)
        o.add_argument("--fans-only", action="store_true", help=texts.HELP_FANS_ONLY)
        o.add_argument("--send-ignore-reprint", action="store_true", help=texts.HELP_IGNORE_REPRINT)

    def with_id(name: str, func, **defaults):
        p, positionals, opts = _parser(ps, name, cmd[name])
        positionals.add_argument("id", type=int, metavar="编号", help=texts.HELP_ID)
        p.set_defaults(func=_run(func), **defaults)
        return p, positionals, opts

    p, _, opts = _parser(ps, "create", cmd["create"])
    options(opts, True)
    p.set_defaults(func=_run(_create))
    _, _, opts = with_id("edit", _edit)
    options(opts, False)
    p, _, opts = _parser(ps, "list", cmd["list"])
    opts.add_argument("--json", action="store_true", help=texts.HELP_JSON)
    opts.add_argument("-n", type=int, default=50, metavar="条数", help=texts.HELP_N)
    p.set_defaults(func=_run(_list))
    _, _, opts = with_id("show", _show)
    opts.add_argument("--json", action="store_true", help=texts.HELP_JSON)
    _, _, opts = with_id("preview", _preview)
    opts.add_argument("--to", nargs="+", metavar="OPENID", help=texts.HELP_TO)
    for name, func in (("approve", _approve), ("cancel", _cancel), ("retry", _retry), ("ack", _ack)):
        with_id(name, func)
    for name, func in (("send-now", _send_now), ("withdraw", _withdraw)):
        _, _, opts = with_id(name, func)
        opts.add_argument("--yes", "-y", action="store_true", help=texts.HELP_YES)
    p, _, _ = _parser(ps, "compose", cmd["compose"])
    p.set_defaults(func=_run(_compose))
    p, _, _ = _parser(ps, "run", cmd["run"])
    p.set_defaults(func=_run(_tick))


# The commands that change something, by the audit log's action name (console/texts.ACTIONS).
AUDITED = {"create": "push_create", "edit": "push_edit", "preview": "push_preview", "approve": "push_approve",
           "send-now": "push_send_now", "cancel": "push_cancel", "retry": "push_retry", "ack": "push_ack",
           "withdraw": "push_withdraw", "compose": "push_create"}


def _run(coro_fn):
    async def run(args, services) -> int:
        try:
            code = await coro_fn(args, services) or 0
        except (editing.EditError, planning.PlanningError) as e:
            print(texts.CLI_ERROR.format(e=e), file=sys.stderr)
            return 1
        target = getattr(args, "id", None) or getattr(args, "created_id", None)
        action = AUDITED.get(args.push_command)
        if action and target is not None:
            # In the audit log as the operating-system user (or --as NAME), like the console's editors.
            await audit.record(services.db, services.clock, audit.cli_actor(args.as_name), action,
                               target_type="push", target_id=target, summary=f"push {args.push_command}")
        return code

    func = with_services(run)

    def command(args, settings: Settings) -> int:
        # What the command did is printed in words; the modules' progress lines are for `serve`'s log.
        logging.getLogger().setLevel(logging.WARNING)
        return func(args, settings)

    return command


async def _confirm(args, question: str) -> bool:
    """--yes, or a "y" typed at a terminal; a script without --yes is refused, not answered for."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(texts.CLI_NEEDS_YES, file=sys.stderr)
        return False
    answer = await asyncio.to_thread(input, f"{question}{texts.CLI_YES_NO} ")
    if answer.strip().lower() in ("y", "yes", "是", "确定"):
        return True
    print(texts.CLI_NOT_CONFIRMED)
    return False


def _fmt(push, settings: Settings) -> dict:
    return dict(id=push.id, kind=texts.KIND[push.kind], count=len(push.articles), cmd=texts.CMD,
                at=planning.show(push.planned_at, settings), attempt=push.attempt)


def _spec(args, settings: Settings, base=None) -> editing.PushSpec:
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
    args.created_id = push.id
    extra = texts.CLI_WITH_PREVIEW if push.preview else ""
    print(texts.CLI_CREATED.format(extra=extra, **_fmt(push, services.settings)))
    print(texts.CLI_NEEDS_SERVE.format(cmd=texts.CMD))
    return 0


async def _edit(args, services) -> int:
    base = await editing.get(services, args.id)
    before = base.state
    push = await editing.edit(services, args.id, _spec(args, services.settings, base))
    extra = ""
    if push.state == "planned" and before != "planned":
        extra = texts.CLI_REDRAFT
    elif before == "overdue":
        extra = texts.CLI_BACK_ON_TIME
    print(texts.CLI_EDITED.format(**_fmt(push, services.settings)) + extra)
    if args.preview:
        return await _preview_now(services, push.id, None)
    return 0


async def _preview(args, services) -> int:
    return await _preview_now(services, args.id, args.to)


async def _preview_now(services, push_id: int, to: list[str] | None) -> int:
    rows = await editing.preview(services, push_id, to)
    if rows is None:
        print(texts.PREVIEW_LATER.format(id=push_id, cmd=texts.CMD))
        return 0
    from scheduler import previews

    for row in rows:
        print(previews.line(row))
    return 0 if all(r.status == "sent" for r in rows) else 1


async def _approve(args, services) -> int:
    push, changed = await editing.approve(services, args.id)
    fmt = _fmt(push, services.settings)
    if not changed:
        print(texts.CLI_ALREADY_APPROVED.format(by=texts.BY.get(push.approved_by, push.approved_by), **fmt))
    elif push.state in ("planned", "preparing"):
        print(texts.CLI_APPROVED_EARLY.format(**fmt))
    else:
        print(texts.CLI_APPROVED.format(**fmt))
    return 0


async def _send_now(args, services) -> int:
    push = await editing.get(services, args.id)
    if not await _confirm(args, texts.CLI_SEND_NOW_ASK.format(**_fmt(push, services.settings))):
        return 1
    before = _fmt(push, services.settings)
    push = await editing.send_now(services, args.id)
    print(texts.CLI_SEND_NOW.format(**before))
    return 0


async def _cancel(args, services) -> int:
    push = await editing.cancel(services, args.id)
    print(texts.CLI_CANCELLED.format(id=push.id))
    return 0


async def _retry(args, services) -> int:
    push = await editing.retry(services, args.id)
    print(texts.CLI_RETRY.format(**_fmt(push, services.settings)))
    return 0


async def _ack(args, services) -> int:
    n = await editing.ack(services, args.id)
    print((texts.CLI_ACKED if n else texts.CLI_NOTHING_TO_ACK).format(id=args.id, n=n))
    return 0


async def _withdraw(args, services) -> int:
    push = await editing.get(services, args.id)
    if push.state == "done" and not await _confirm(args, texts.CLI_WITHDRAW_ASK.format(**_fmt(push, services.settings))):
        return 1
    push = await editing.withdraw(services, args.id)
    print(texts.CLI_WITHDRAWN.format(id=push.id))
    return 0


async def _compose(args, services) -> int:
    push = await compose.compose(services)
    if push is None:
        print(texts.CLI_NOTHING_TO_COMPOSE)
        return 0
    args.created_id = push.id
    print(texts.CLI_COMPOSED.format(**_fmt(push, services.settings)))
    return 0


async def _tick(args, services) -> int:
    from scheduler.service import Runner

    runner = Runner(services)
    n = await runner.tick()
    print(texts.CLI_TICK.format(n=n, sent=runner.notices_sent))
    return 0


async def _list(args, services) -> int:
    print(await report.push_list(services, args.n, as_json=args.json))
    return 0


async def _show(args, services) -> int:
    print(await report.push_detail(services, args.id, as_json=args.json))
    return 0
