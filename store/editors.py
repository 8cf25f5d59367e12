"""The console's accounts: add, change a password, disable, list, and check a login. Passwords are
hashed with argon2 (argon2-cffi's defaults, RFC 9106's second recommended profile) and the hashing
runs in a worker thread: it takes tens of milliseconds on purpose and must not hold the event loop.
A new password or a disabled account bumps `session_version`, which ends every live session."""

from __future__ import annotations

import asyncio
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from core.clock import Clock
from store.db import SessionFactory
from store.models.console import Editor

ROLES = ("editor", "approver", "admin")
# Each role can do what the ones before it can: an approver also composes, an admin also approves.
RANK = {role: i for i, role in enumerate(ROLES)}
MIN_PASSWORD = 10
NAME = re.compile(r"[A-Za-z0-9_.-]{2,64}")

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY = _hasher.hash("not-a-password-of-anyone")


class AccountError(ValueError):
    """Refused, with the reason in Chinese (the words are the caller's: see `reason`)."""

    def __init__(self, reason: str, **fmt: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fmt = fmt


def at_least(role: str, minimum: str) -> bool:
    return RANK.get(role, -1) >= RANK[minimum]


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password_short", n=MIN_PASSWORD)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify(stored: str, password: str) -> bool:
    def run() -> bool:
        try:
            return _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(run)


async def get(db: SessionFactory, name: str) -> Editor | None:
    async with db() as s:
        return await s.scalar(select(Editor).where(Editor.name == name))


async def by_id(db: SessionFactory, editor_id: int) -> Editor | None:
    async with db() as s:
        return await s.get(Editor, editor_id)


async def add(db: SessionFactory, clock: Clock, name: str, role: str, password: str, *,
              display_name: str = "", openid: str | None = None) -> Editor:
    if not NAME.fullmatch(name):
        raise AccountError("bad_name", name=name)
    if role not in ROLES:
        raise AccountError("bad_role", role=role)
    check_password(password)
    hashed = await hash_password(password)
    async with db.begin() as s:
        if await s.scalar(select(Editor.id).where(Editor.name == name)) is not None:
            raise AccountError("name_taken", name=name)
        editor = Editor(name=name, role=role, password_hash=hashed, display_name=display_name or name,
                        openid=openid or None, disabled=False, session_version=1, created_at=clock.now())
        s.add(editor)
    return editor


async def update(db: SessionFactory, name: str, *, password: str | None = None, disabled: bool | None = None,
                 role: str | None = None, openid: str | None = None) -> tuple[dict, dict]:
    """Change an account; (before, after) of what changed, without the password itself."""
    if password is not None:
        check_password(password)
        hashed = await hash_password(password)
    if role is not None and role not in ROLES:
        raise AccountError("bad_role", role=role)
    async with db.begin() as s:
        editor = await s.scalar(select(Editor).where(Editor.name == name))
        if editor is None:
            raise AccountError("no_such_editor", name=name)
        before: dict = {}
        after: dict = {}
        if password is not None:
            editor.password_hash = hashed
            before["password"], after["password"] = "（旧）", "（已更改）"
        if disabled is not None and disabled != editor.disabled:
            before["disabled"], after["disabled"] = editor.disabled, disabled
            editor.disabled = disabled
        if role is not None and role != editor.role:
            before["role"], after["role"] = editor.role, role
            editor.role = role
        if openid is not None and (openid or None) != editor.openid:
            before["openid"], after["openid"] = editor.openid, openid or None
            editor.openid = openid or None
        if password is not None or disabled or "role" in after:
            editor.session_version += 1  # every live session of the account ends now
    return before, after


async def all_editors(db: SessionFactory) -> list[Editor]:
    async with db() as s:
        return list((await s.scalars(select(Editor).order_by(Editor.name))).all())


async def authenticate(db: SessionFactory, clock: Clock, name: str, password: str) -> Editor | None:
    """The account if the name and password match and it is not disabled; None otherwise (the
    caller says nothing about which of the two was wrong)."""
    editor = await get(db, name)
    ok = await _verify(editor.password_hash if editor else _DUMMY, password)
    if editor is None or not ok or editor.disabled:
        return None
    if _hasher.check_needs_rehash(editor.password_hash):
        editor.password_hash = await hash_password(password)
    async with db.begin() as s:
        row = await s.get(Editor, editor.id)
        row.last_login_at = clock.now()
        row.password_hash = editor.password_hash
    return editor
