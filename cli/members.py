"""`main.py members …`: import, list, show, export and retire member units; issue binding codes;
see and revoke bindings. Editors' commands: they show private fields. A unit is named the way
followers name it (store/members/find.py); when that fits several, the editor chooses."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from cli import member_stats
from cli.run import with_services
from core.clock import local_time, shown_time, zone_label
from core.config import Settings
from core.services import Services
from store.members import binding, texts
from store.members.find import find_unit, member_by_id
from store.members.importer import import_file, retire
from store.members.registry import cell_text, export_table, history_of, list_units, write_table
from store.members.stats import figures_for_new_registry
from store.members.status import local_today
from store.members.table import FIELDS, HEADERS, ImportFileError
from store.models.members import Member

CHOICES_SHOWN = 10


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("members", parents=[common], help=texts.CLI_HELP)
    msub = p.add_subparsers(dest="members_command", required=True, metavar="ACTION")

    imp = msub.add_parser(
        "import",
        parents=[common],
        help=texts.CLI_IMPORT_HELP,
        description=texts.CLI_IMPORT_DESCRIPTION + "、".join(h[0] for h in HEADERS.values()),
    )
    imp.add_argument("file", type=Path, metavar="FILE", help=texts.CLI_IMPORT_FILE)
    imp.add_argument("--dry-run", action="store_true", help=texts.CLI_DRY_RUN)
    imp.set_defaults(func=_run(_import))

    ls = msub.add_parser("list", parents=[common], help=texts.CLI_LIST_HELP)
    ls.add_argument("--all", action="store_true", help=texts.CLI_LIST_ALL)
    ls.set_defaults(func=_run(_list))

    exp = msub.add_parser("export", parents=[common], help=texts.CLI_EXPORT_HELP)
    exp.add_argument("file", type=Path, metavar="FILE", help=texts.CLI_EXPORT_FILE)
    exp.set_defaults(func=_run(_export))

    member_stats.register(msub, common)

    for name, help_, func in (
        ("show", texts.CLI_SHOW_HELP, _show),
        ("retire", texts.CLI_RETIRE_HELP, _retire),
        ("bind-code", texts.CLI_BIND_CODE_HELP, _bind_code),
        ("bindings", texts.CLI_BINDINGS_HELP, _bindings),
        ("unbind", texts.CLI_UNBIND_HELP, _unbind),
    ):
        cmd = msub.add_parser(name, parents=[common], help=help_, description=help_)
        cmd.add_argument("unit", metavar="UNIT", help=texts.CLI_UNIT)
        if name == "unbind":
            cmd.add_argument("openid", metavar="OPENID", help=texts.CLI_OPENID)
        cmd.set_defaults(func=_run(func, takes_unit=True))


def _run(command, takes_unit: bool = False):
    """`command(args, services)`, or with the unit named on the command line:
    `command(args, services, member)` (nothing is run when it names no unit)."""

    async def run(args, services: Services) -> int:
        if not takes_unit:
            return await command(args, services)
        member = await _unit(args.unit, services)
        if member is None:
            return 1
        try:
            return await command(args, services, member)
        except binding.MemberNotFound:  # the unit vanished between finding and using it
            print(texts.CLI_NO_SUCH_CODE.format(code=member.credit_code))
            return 1

    return with_services(run)


async def _unit(query: str, services: Services) -> Member | None:
    """The unit `query` names; when several fit (or only a guess does), the editor picks one at the
    terminal. Without a terminal to ask on, the candidates are listed and nothing is done."""
    found = await find_unit(services.db, query, services.settings.members.roles)
    if found.member is not None:
        return found.member
    if found.bad_code:
        print(texts.CLI_BAD_CODE.format(query=query))
        return None
    if not found.candidates:
        print(texts.cli_not_found(query, found.suggestions))
        return None
    shown = found.candidates[:CHOICES_SHOWN]
    print(texts.CLI_CHOICES.format(query=query))
    for n, e in enumerate(shown, 1):
        print(texts.CLI_CHOICE_LINE.format(n=n, name=e.name, code=e.credit_code, left=texts.CLI_LEFT if e.retired else ""))
    if not sys.stdin.isatty():
        print(texts.CLI_CHOOSE_AGAIN)
        return None
    try:
        answer = (await asyncio.to_thread(input, texts.CLI_ASK)).strip()
    except EOFError:
        answer = ""
    if not answer:
        print(texts.CLI_CANCELLED)
        return None
    if not (answer.isdigit() and 1 <= int(answer) <= len(shown)):
        print(texts.CLI_NOT_A_CHOICE.format(answer=answer))
        return None
    return await member_by_id(services.db, shown[int(answer) - 1].id)


async def _import(args, services: Services) -> int:
    now = services.clock.now()
    try:
        report = await import_file(
            services.db,
            args.file,
            now,
            local_today(now, services.settings.scheduler.timezone),
            services.settings.members.roles,
            dry_run=args.dry_run,
        )
    except (ImportFileError, OSError) as e:
        print(texts.CLI_FILE_ERROR.format(file=args.file, error=texts.file_problem(e)))
        return 2
    print(report.summary())
    if not args.dry_run:  # the new registry's figures, computed once for every process's 统计
        zone = services.settings.scheduler.timezone
        await figures_for_new_registry(services.db, local_today(now, zone), timezone=zone,
                                       roles=services.settings.members.roles, cache=services.figures)
    return 0 if report.ok else 1


def _cell(text: str, width: int) -> str:
    """Pad to a display width: a Chinese character takes two columns."""
    return text + " " * max(0, width - sum(2 if ord(c) > 0x2E80 else 1 for c in text))


async def _list(args, services: Services) -> int:
    members = await list_units(services.db, include_retired=args.all)
    print(texts.CLI_LIST_HEADER)
    for m in members:
        grade = f"{m.grade}（{m.grade_year}）" if m.grade else texts.CLI_NO_GRADE
        print(texts.CLI_LIST_LINE.format(code=m.credit_code, role=_cell(m.role, 14), grade=_cell(grade, 11),
                                         name=m.name, left=texts.CLI_LEFT if m.retired else ""))
    print(texts.CLI_LIST_TOTAL.format(n=len(members)))
    return 0


def _day(at, settings: Settings) -> str:
    return local_time(at, settings.scheduler.timezone, "%Y-%m-%d")


async def _show(args, services: Services, m: Member) -> int:
    history = await history_of(services.db, m.id)
    for f in FIELDS:
        print(f"{texts.FIELD_NAMES[f]}：{cell_text(getattr(m, f))}")
    retired = texts.CLI_RETIRED_YES.format(date=_day(m.retired_at, services.settings)) if m.retired else texts.CLI_RETIRED_NO
    print(f"{texts.FIELD_NAMES['retired']}：{retired}")
    if history:
        zone = services.settings.scheduler.timezone
        print(texts.CLI_HISTORY.format(zone=zone_label(zone)))
    for h in history:
        print(texts.CLI_HISTORY_LINE.format(
            at=local_time(h.changed_at, services.settings.scheduler.timezone), source=texts.history_source(h.source),
            field=texts.FIELD_NAMES.get(h.field, h.field), old=texts.shown_value(h.field, h.old_value),
            new=texts.shown_value(h.field, h.new_value)))  # fmt: skip
    return 0


async def _export(args, services: Services) -> int:
    members = await list_units(services.db, include_retired=False)
    try:
        await asyncio.to_thread(write_table, args.file, export_table(members))
    except OSError as e:
        print(texts.CLI_FILE_ERROR.format(file=args.file, error=texts.file_problem(e)))
        return 2
    print(texts.CLI_EXPORTED.format(n=len(members), file=args.file))
    return 0


async def _retire(args, services: Services, m: Member) -> int:
    if m.retired:
        print(texts.CLI_ALREADY_RETIRED.format(name=m.name, date=_day(m.retired_at, services.settings)))
        return 0
    member = await retire(services.db, m.credit_code, services.clock.now())
    if member is None:
        print(texts.CLI_NO_SUCH_CODE.format(code=m.credit_code))
        return 1
    print(texts.CLI_RETIRED.format(name=member.name, date=_day(member.retired_at, services.settings)))
    return 0


async def _bind_code(args, services: Services, m: Member) -> int:
    code, member, expires = await binding.issue_code(
        services.db, m.credit_code, services.clock.now(), services.settings.members.bind_code_ttl_minutes
    )
    until = shown_time(expires, services.settings.scheduler.timezone)
    print(texts.CLI_BIND_CODE.format(name=member.name, code=code, until=until))
    return 0


async def _bindings(args, services: Services, m: Member) -> int:
    member, bindings, events = await binding.bindings_of(services.db, m.credit_code)
    zone = services.settings.scheduler.timezone
    print(member.name)
    active = [b for b in bindings if b.revoked_at is None]
    print(texts.CLI_BOUND_FOLLOWERS.format(n=len(active), zone=zone_label(zone)))
    for b in active:
        print(texts.CLI_BOUND_LINE.format(openid=b.openid, since=local_time(b.created_at, zone)))
    print(texts.CLI_BINDING_LOG)
    for e in events:
        print(texts.CLI_BINDING_LOG_LINE.format(
            at=local_time(e.at, zone), kind=texts.BINDING_KINDS.get(e.kind, e.kind), openid=e.openid))  # fmt: skip
    if not events:
        print(texts.CLI_NO_BINDING_LOG)
    return 0


async def _unbind(args, services: Services, m: Member) -> int:
    names = await binding.unbind(services.db, args.openid, services.clock.now(), m.id, kind="revoke")
    template = texts.CLI_UNBOUND if names else texts.CLI_NOT_BOUND
    print(template.format(openid=args.openid, name=m.name))
    return 0 if names else 1
