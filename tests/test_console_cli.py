"""`main.py editors …` and the CLI's lines in the audit log: accounts added, listed, given a new
password and disabled from the shell, each change recorded as the operating-system user or
`--as NAME`, a push command recorded too, and never the password."""

from __future__ import annotations

import asyncio
import getpass
import io

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from store import editors
from store.models.console import AuditEntry, Editor


def audit_rows(db_url: str) -> list[AuditEntry]:
    engine = create_engine(db_url.replace("+aiosqlite", ""))
    with Session(engine) as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all())
    engine.dispose()
    return rows


def account(db_url: str, name: str) -> Editor:
    engine = create_engine(db_url.replace("+aiosqlite", ""))
    with Session(engine) as s:
        row = s.scalar(select(Editor).where(Editor.name == name))
    engine.dispose()
    return row


def test_editors_add_list_passwd_disable(cli, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("first-password-1\n"))
    code, out, err = cli("editors", "add", "zhang.san", "--role", "approver", "--display-name", "张三",
                         "--password-stdin")
    assert code == 0 and "已添加账号 zhang.san（审批人）" in out and "/console/" in out, err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = cli("editors", "add", "li", "--role", "editor", "--password-stdin")
    assert code == 1 and "密码至少需要 10 个字符" in err
    code, out, _ = cli("editors", "list")
    assert "zhang.san" in out and "审批人" in out and "正常" in out
    before = account(cli.db_url, "zhang.san").session_version

    # At a prompt, typed twice (getpass: not echoed, not in the shell history).
    answers = iter(["second-password-2", "second-password-2"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    code, out, _ = cli("editors", "passwd", "zhang.san", "--as", "secretary")
    assert code == 0 and "原有登录已失效" in out
    row = account(cli.db_url, "zhang.san")
    assert row.session_version == before + 1
    ok = asyncio.run(editors._verify(row.password_hash, "second-password-2"))
    assert ok

    code, out, _ = cli("editors", "disable", "zhang.san")
    assert code == 0 and account(cli.db_url, "zhang.san").disabled
    code, _, err = cli("editors", "disable", "nobody")
    assert code == 1 and "找不到账号“nobody”" in err

    rows = audit_rows(cli.db_url)
    assert [(r.action, r.via, r.target_id) for r in rows] == [
        ("editor_add", "cli", "zhang.san"), ("editor_passwd", "cli", "zhang.san"), ("editor_disable", "cli", "zhang.san")]
    assert rows[0].actor == getpass.getuser() and rows[1].actor == "secretary"
    dumped = " ".join(f"{r.summary} {r.before} {r.after}" for r in rows)
    assert "password-1" not in dumped and "password-2" not in dumped and "argon2" not in dumped
    assert rows[1].after == {"password": "（已更改）"}


def test_a_push_command_is_in_the_audit_log(cli):
    code, _, _ = cli("push", "cancel", "999", "--as", "wang")  # refused: nothing changed, nothing recorded
    assert code == 1
    assert audit_rows(cli.db_url) == []
    assert cli("demo", "load")[0] == 0
    n = len(audit_rows(cli.db_url))
    code, out, err = cli("push", "create", "--articles", "1,2", "--at", "2030-01-07 20:00", "--as", "wang")
    assert code == 0, err
    code, out, err = cli("push", "cancel", "1")
    assert code == 0, err
    rows = audit_rows(cli.db_url)[n:]
    assert [(r.actor, r.via, r.action, r.target_type, r.target_id) for r in rows] == [
        ("wang", "cli", "push_create", "push", "1"), (getpass.getuser(), "cli", "push_cancel", "push", "1")]
