"""`main.py editors add|passwd|disable|enable|list`: the console's accounts (store/editors.py), each
change in the audit log as the operating-system user (or `--as NAME`). A password is typed at a
prompt (twice) or read from standard input with --password-stdin, never given as an argument
(it would stay in the shell history and in `ps`)."""

from __future__ import annotations

import argparse
import getpass
import sys

from cli.run import with_services
from console import texts as console_texts
from store import audit, editors

HELP = "编辑后台的账号：添加、改密码、停用、列出"
PROMPT = "请输入账号 {name} 的新密码（至少 {n} 位，输入时不显示）："
PROMPT_AGAIN = "请再输入一次："
MISMATCH = "两次输入的密码不一致，没有做任何改动。"
ADDED = "已添加账号 {name}（{role}）。可在 {url} 登录。"
PASSWD = "已为账号 {name} 设置新密码；其原有登录已失效。"
DISABLED = "已停用账号 {name}；其原有登录已失效。"
ENABLED = "已启用账号 {name}。"
EMPTY = "还没有账号。添加一个：python main.py editors add 姓名拼音 --role admin"
LINE = "{name:<16} {role:<6} {state:<4} openid={openid}  上次登录 {last}"


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("editors", parents=[common], help=HELP)
    es = p.add_subparsers(dest="editors_command", required=True, metavar="ACTION")

    def action(name: str, help: str, func, with_name: bool = True) -> argparse.ArgumentParser:
        a = es.add_parser(name, parents=[common], help=help)
        if with_name:
            a.add_argument("name", metavar="NAME", help="账号名（英文字母、数字、点、下划线）")
        a.add_argument("--as", dest="as_name", metavar="NAME", help="记入操作日志的操作人（默认：当前系统用户）")
        a.set_defaults(func=with_services(func))
        return a

    add = action("add", "添加账号", _add)
    add.add_argument("--role", required=True, choices=editors.ROLES, help="editor 编辑 | approver 审批人 | admin 管理员")
    add.add_argument("--display-name", default="", help="显示的姓名")
    add.add_argument("--openid", default="", help="此人关注公众号的 openid（接收预览）")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（脚本用）")
    pw = action("passwd", "设置新密码（原有登录立即失效）", _passwd)
    pw.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（脚本用）")
    action("disable", "停用账号（原有登录立即失效）", _disable)
    action("enable", "重新启用账号", _enable)
    action("list", "列出账号", _list, with_name=False)


def _password(args) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(PROMPT.format(name=args.name, n=editors.MIN_PASSWORD))
    if getpass.getpass(PROMPT_AGAIN) != first:
        print(MISMATCH, file=sys.stderr)
        return None
    return first


def _refused(e: editors.AccountError) -> int:
    print(console_texts.ACCOUNT_ERRORS.get(e.reason, e.reason).format(**e.fmt), file=sys.stderr)
    return 1


async def _add(args, services) -> int:
    password = _password(args)
    if password is None:
        return 1
    try:
        row = await editors.add(services.db, services.clock, args.name, args.role, password,
                                display_name=args.display_name, openid=args.openid or None)
    except editors.AccountError as e:
        return _refused(e)
    await audit.record(services.db, services.clock, audit.cli_actor(args.as_name), "editor_add",
                       target_type="editor", target_id=row.name, after={"role": row.role, "openid": row.openid})
    print(ADDED.format(name=row.name, role=console_texts.ROLE[row.role], url=services.settings.console_url))
    return 0


async def _change(args, services, action: str, message: str, **change) -> int:
    try:
        before, after = await editors.update(services.db, args.name, **change)
    except editors.AccountError as e:
        return _refused(e)
    await audit.record(services.db, services.clock, audit.cli_actor(args.as_name), action,
                       target_type="editor", target_id=args.name, before=before, after=after)
    print(message.format(name=args.name))
    return 0


async def _passwd(args, services) -> int:
    password = _password(args)
    if password is None:
        return 1
    return await _change(args, services, "editor_passwd", PASSWD, password=password)


async def _disable(args, services) -> int:
    return await _change(args, services, "editor_disable", DISABLED, disabled=True)


async def _enable(args, services) -> int:
    return await _change(args, services, "editor_enable", ENABLED, disabled=False)


async def _list(args, services) -> int:
    rows = await editors.all_editors(services.db)
    if not rows:
        print(EMPTY)
    from scheduler import planning

    for r in rows:
        print(LINE.format(name=r.name, role=console_texts.ROLE[r.role], state="停用" if r.disabled else "正常",
                          openid=r.openid or "-", last=planning.show(r.last_login_at, services.settings)))
    return 0
