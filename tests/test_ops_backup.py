"""`db backup` under load and `db restore`: every push and every message-log row committed before the
backup began is in the restored database, and so is the media folder; a restore over a database
with data is refused without --force; the CLI says so in Chinese. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import func, select

from ops import backup
from store.migrate import upgrade
from store.models.pushes import Push
from store.models.webhook import MessageLog
from tests.webhook_helpers import text_xml, webhook_client
from tests.webhook_support import make_services

FAST = {"log": {"flush_seconds": 0.1}}


async def _load(services, hook, stop: asyncio.Event) -> int:
    """Messages through the webhook and pushes written directly, until `stop`."""
    sent = 0
    for i in itertools.count():
        if stop.is_set():
            return sent
        await hook.send(text_xml(f"o_load{i % 7}", "帮助"))
        if i % 3 == 0:
            async with services.db.begin() as s:
                s.add(Push(kind="publish", state="planned", planned_at=services.clock.now()))
        sent += 1
        await asyncio.sleep(0.005)
    return sent


async def _committed(services) -> tuple[int, set[int]]:
    async with services.db() as s:
        top = await s.scalar(select(func.max(MessageLog.id))) or 0
        pushes = set((await s.scalars(select(Push.id))).all())
    return top, pushes


async def test_a_backup_under_load_restores_what_was_committed_before_it(make_settings, db_url, tmp_path):
    await upgrade(db_url)
    file = tmp_path / "backups" / "bot.tar"
    async with make_services(make_settings, db_url, **FAST) as services:
        settings = services.settings
        media = settings.path(settings.content.media_dir)
        (media / "2026").mkdir(parents=True)
        (media / "2026" / "cover.jpg").write_bytes(b"\xff\xd8 not much of a jpeg")
        async with webhook_client(services) as hook:
            stop = asyncio.Event()
            load = asyncio.create_task(_load(services, hook, stop))
            await asyncio.sleep(1.0)
            await services.messagelog.flush()
            top, pushes = await _committed(services)  # everything here was committed before the backup
            async with services.db() as s:
                # the load goes on: rows written since `top` was read may or may not be in the backup
                before_ids = set((await s.scalars(select(MessageLog.id).where(MessageLog.id <= top))).all())
            done = await backup.backup(settings, file)
            await asyncio.sleep(0.5)  # the load goes on after it
            stop.set()
            sent = await load
            await services.messagelog.flush()
            final_top, final_pushes = await _committed(services)
    assert sent > 20 and top > 20 and len(pushes) > 5
    assert final_top > top  # rows came after the backup began
    assert done.media == 1 and done.kind == db_url.split(":")[0].split("+")[0]

    (media / "2026" / "cover.jpg").unlink()
    with pytest.raises(backup.BackupError, match="--force"):
        await backup.restore(settings, file)
    restored = await backup.restore(settings, file, force=True)
    assert restored.media == 1 and (media / "2026" / "cover.jpg").read_bytes().startswith(b"\xff\xd8")

    async with make_services(make_settings, db_url) as services:
        async with services.db() as s:
            ids = set((await s.scalars(select(MessageLog.id).where(MessageLog.id <= top))).all())
            restored_pushes = set((await s.scalars(select(Push.id))).all())
            after = await s.scalar(select(func.max(MessageLog.id)))
    assert ids == before_ids and pushes <= restored_pushes
    assert restored_pushes <= final_pushes and top <= after <= final_top


def test_the_cli_backs_up_and_refuses_to_restore_over_data(cli, tmp_path):
    file = tmp_path / "b.tar"
    code, out, err = cli("db", "backup", str(file))
    assert code == 0 and out.startswith(f"已备份到 {file}：数据库（sqlite") and "0 个媒体文件" in out
    code, out, err = cli("db", "restore", str(file))
    assert code == 1 and "目标数据库已有数据" in err and "--force" in err
    code, out, err = cli("db", "restore", str(file), "--force")
    assert code == 0 and out.startswith(f"已从 {file} 恢复")
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"nothing")
    code, out, err = cli("db", "restore", str(bogus), "--force")
    assert code == 1 and "不是本程序生成的备份文件" in err


async def test_restore_into_an_empty_place_needs_no_force(make_settings, migrated, tmp_path):
    settings = make_settings(database={"url": migrated})
    file = tmp_path / "b.tar"
    await backup.backup(settings, file)
    fresh = make_settings(database={"url": f"sqlite+aiosqlite:///{tmp_path / 'new' / 'bot.db'}"})
    done = await backup.restore(fresh, file)
    assert done.kind == "sqlite" and backup._sqlite_tables(backup.sqlite_path(fresh)) > 10
