"""`main.py members …`: import, list, show, export and retire member units; issue binding codes;
see and revoke bindings. Editors' commands: they show private fields."""

from __future__ import annotations

import argparse
import asyncio
import csv
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.clock import Clock
from bot.config import Settings
from store.db import SessionFactory, make_engine, make_session_factory
from store.members import binding, texts
from store.members.importer import FIELDS, HEADERS, ImportFileError, import_file, retire
from store.members.status import local_today
from store.models.members import Member, MemberHistory


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("members", parents=[common], help="the member registry and bindings")
    msub = p.add_subparsers(dest="members_command", required=True, metavar="ACTION")

    imp = msub.add_parser(
        "import",
        parents=[common],
        help="import members from .xlsx or .csv (UTF-8 or GBK); exits 1 if any row was rejected",
        description="Upsert member units by credit code. Headers: "
        + "、".join(h[0] for h in HEADERS.values()),
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    imp.set_defaults(func=_run(_import))

    ls = msub.add_parser("list", parents=[common], help="list member units")
    ls.add_argument("--all", action="store_true", help="include units that left")
    ls.set_defaults(func=_run(_list))

    show = msub.add_parser("show", parents=[common], help="one unit with its history")
    show.add_argument("code", help="unified social credit code")
    show.set_defaults(func=_run(_show))

    exp = msub.add_parser(
        "export", parents=[common], help="write all units to .csv or .xlsx (import's format)"
    )
    exp.add_argument("file", type=Path)
    exp.set_defaults(func=_run(_export))

    ret = msub.add_parser("retire", parents=[common], help="mark a unit that left the federation")
    ret.add_argument("code")
    ret.set_defaults(func=_run(_retire))

    bc = msub.add_parser(
        "bind-code", parents=[common], help="issue a one-time code that binds a follower to this unit"
    )
    bc.add_argument("code")
    bc.set_defaults(func=_run(_bind_code))

    bs = msub.add_parser("bindings", parents=[common], help="a unit's bound followers and binding log")
    bs.add_argument("code")
    bs.set_defaults(func=_run(_bindings))

    ub = msub.add_parser("unbind", parents=[common], help="revoke a follower's binding to a unit")
    ub.add_argument("code")
    ub.add_argument("openid")
    ub.set_defaults(func=_run(_unbind))


def _run(command):
    def func(args, settings: Settings) -> int:
        return asyncio.run(_with_db(command, args, settings))

    return func


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[SessionFactory]:
    engine = make_engine(settings.database_url)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def _with_db(command, args, settings: Settings) -> int:
    async with _database(settings) as db:
        try:
            return await command(args, settings, db, Clock())
        except binding.MemberNotFound:  # every command that takes a CODE says the same
            print(f"no member with credit code {args.code}")
            return 1


async def _import(args, settings: Settings, db: SessionFactory, clock: Clock) -> int:
    now = clock.now()
    try:
        report = await import_file(
            db,
            args.file,
            now,
            local_today(now, settings.scheduler.timezone),
            settings.members.roles,
            dry_run=args.dry_run,
        )
    except (ImportFileError, OSError) as e:
        print(f"{args.file}: {e}")
        return 2
    print(report.summary())
    return 0 if report.ok else 1


async def _members(db: SessionFactory, include_retired: bool = True) -> list[Member]:
    async with db() as session:
        query = select(Member).order_by(Member.name)
        if not include_retired:
            query = query.where(Member.retired.is_(False))
        return list(await session.scalars(query))


async def _list(args, settings: Settings, db: SessionFactory, clock: Clock) -> int:
    members = await _members(db, include_retired=args.all)
    for m in members:
        grade = f"{m.grade} ({m.grade_year})" if m.grade else "-"
        left = "  [已退会]" if m.retired else ""
        print(f"{m.credit_code}  {m.role:<8} {grade:<10} {m.name}{left}")
    print(f"{len(members)} units")
    return 0


async def _show(args, settings: Settings, db: SessionFactory, clock: Clock) -> int:
    async with db() as session:
        m = await binding.find_member(session, args.code)
        history = list(
            await session.scalars(
                select(MemberHistory).where(MemberHistory.member_id == m.id).order_by(MemberHistory.id)
            )
        )
    for f in FIELDS:
        value = getattr(m, f)
        print(f"{texts.FIELD_NAMES[f]}：{'' if value is None else value}")
    print(f"已退会：{'是（' + m.retired_at.date().isoformat() + '）' if m.retired else '否'}")
    for h in history:
        print(
            f"  {h.changed_at:%Y-%m-%d %H:%M} {h.source}: {texts.FIELD_NAMES.get(h.field, h.field)} {h.old_value} → {h.new_value}"
        )
    return 0


def _write_table(path: Path, rows: list[list]) -> None:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as f:  # BOM: Excel opens it as UTF-8
            csv.writer(f).writerows(rows)


async def _export(args, settings: Settings, db: SessionFactory, clock: Clock) -> int:
    members = await _members(db, include_retired=False)
    rows = [[HEADERS[f][0] for f in FIELDS]]
    for m in members:
        rows.append(["" if getattr(m, f) is None else str(getattr(m, f)) for f in FIELDS])
    await asyncio.to_thread(_write_table, args.file, rows)
    print(f"{len(members)} units written to {args.file}")
    return 0


async def _retire(args, settings: Settings, db: SessionFactory, clock: Clock) -> int:
    member = await retire(db, args.code, clock.now())
    if member is None:
        print(f"no member with credit code {args.code}")
        return 1
    print(f"{member.name}: retired {member.retired_at:%Y-%m-%d}")
    return 0


async def _bind_code(args, settings: Settings, db: SessionFactory, clock: Clock) -> int:
    code, member, expires = await binding.issue_code(
        db, args.code, clock.now(), settings.members.bind_code_ttl_minutes
    )
    until = expires.astimezone(ZoneInfo(settings.scheduler.timezone))
    print(f"{member.name}\nbinding code: {code}  (one use, valid until {until:%Y-%m-%d %H:%M})")
    print(f"the follower sends: 绑定 {code}")
    return 0


async def _bindings(args, settings: Settings, db: SessionFactory, clock: Clock) -> int:
    member, bindings, events = await binding.bindings_of(db, args.code)
    print(member.name)
    active = [b for b in bindings if b.revoked_at is None]
    print(f"bound followers: {len(active)}")
    for b in active:
        print(f"  {b.openid}  since {b.created_at:%Y-%m-%d %H:%M}")
    print("log:")
    for e in events:
        print(f"  {e.at:%Y-%m-%d %H:%M}  {e.kind:<11} {e.openid}")
    return 0


async def _unbind(args, settings: Settings, db: SessionFactory, clock: Clock) -> int:
    async with db() as session:
        member = await binding.find_member(session, args.code)
    names = await binding.unbind(db, args.openid, clock.now(), member.id, kind="revoke")
    print(
        f"revoked: {args.openid} from {member.name}"
        if names
        else f"{args.openid} is not bound to {member.name}"
    )
    return 0 if names else 1
