"""The database goes away under the webhook, through the real app with signed XML: a PostgreSQL
server the test starts on its own port and kills, a SQLite file whose lock another process holds.
While it is gone every follower is answered within the reply budget — the answer itself when it
needs no database (帮助, keyword rules, the welcome), else the error text — and what could not be
written then is written once it is back, without a restart. Also: a handler that fails after the
budget is told to the follower, and a router that cannot refresh breaks no message."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from bot import texts as bot_texts
from bot.router import Router
from core.clock import FakeClock
from handlers import texts
from store.members.demo import load_demo
from store.migrate import upgrade
from store.models.webhook import Follower, MessageLog
from tests.conftest import CI
from tests.throwaway_pg import ThrowawayPostgres, Unavailable
from tests.webhook_helpers import event_xml, text_xml, webhook_client
from tests.webhook_support import make_services

BUDGET = 2.0  # [server] reply_budget_seconds in these tests: the outage costs seconds, not minutes
FAST = {"server": {"reply_budget_seconds": BUDGET, "body_timeout_seconds": 1.0},
        "log": {"flush_seconds": 0.1}}
KEYWORDS = [{"match": "exact", "pattern": "联系方式", "reply": "电话 0571"}]
LOOKUP = "会员 浙江省银行业协会"  # reads the database (the follower's bindings) every time


async def timed(hook, xml: str) -> tuple[dict | str, float]:
    started = time.monotonic()
    reply = await hook.send(xml)
    return reply, time.monotonic() - started


def content(reply) -> str:
    return reply if isinstance(reply, str) else reply["Content"]


async def count(db, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    async with db() as session:
        return await session.scalar(query)


async def eventually(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await check():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("not written after the database came back")
        await asyncio.sleep(0.2)


async def outage_round(hook, services) -> dict[str, str]:
    """What every kind of follower gets while the database is away, each within the budget."""
    help_text = None
    got = {}
    cases = [
        ("o_known", text_xml("o_known", "帮助")),  # known follower, needs no database
        ("o_new_help", text_xml("o_new_help", "帮助")),  # first contact, needs no database
        ("o_new_kw", text_xml("o_new_kw", "联系方式")),  # an editor's rule, cached
        ("o_new_sub", event_xml("o_new_sub", "subscribe")),  # the welcome
        ("o_known_lookup", text_xml("o_known", LOOKUP)),  # needs the database
        ("o_new_lookup", text_xml("o_new_lookup", LOOKUP)),  # first contact, needs it too
    ]
    for name, xml in cases:
        reply, elapsed = await timed(hook, xml)
        assert elapsed < BUDGET + 0.5, (name, elapsed)
        assert reply != "success", name  # never silence
        got[name] = content(reply)
        if name == "o_known":
            help_text = got[name]
    assert help_text.startswith(texts.HELP_HEADER)
    assert got["o_new_help"] == help_text
    assert got["o_new_kw"] == "电话 0571"
    assert got["o_new_sub"] == services.settings.replies.welcome
    assert got["o_known_lookup"] == bot_texts.ERROR and got["o_new_lookup"] == bot_texts.ERROR
    return got


async def written_after(services, openids: list[str]) -> None:
    async def done():
        for openid in openids:
            if await count(services.db, MessageLog, openid=openid, direction="in") < 1:
                return False
            if await count(services.db, Follower, openid=openid) != 1:
                return False
        return not services.messagelog.pending

    await eventually(done)


NEW = ["o_new_help", "o_new_kw", "o_new_sub", "o_new_lookup"]


# --- PostgreSQL killed --------------------------------------------------------------------------------


@pytest.fixture
async def throwaway_pg():
    try:
        pg = ThrowawayPostgres.create()
        await pg.start()
    except Unavailable as e:
        if CI:
            pytest.fail(f"the outage tests must run on CI: {e}")
        pytest.skip(f"no throwaway PostgreSQL here: {e}")
    try:
        yield pg
    finally:
        await pg.kill()
        pg.remove()


async def test_postgresql_killed_every_follower_answered_and_rows_written_after(make_settings, throwaway_pg):
    pg = throwaway_pg
    await upgrade(pg.url)
    # Shared state in PostgreSQL too (no Redis), as several processes run it: it goes down with it.
    async with make_services(make_settings, pg.url, shared_from_settings=True, keywords=KEYWORDS,
                             **FAST) as services:
        await load_demo(services)
        async with webhook_client(services) as hook:
            assert content(await hook.send(text_xml("o_known", "帮助"))).startswith(texts.HELP_HEADER)
            assert "浙江省银行业协会" in content(await hook.send(text_xml("o_known", LOOKUP)))

            await pg.kill()
            await outage_round(hook, services)
            await outage_round(hook, services)  # and again, once the outage is known

            await pg.start()  # the same data; the bot is not restarted
            await written_after(services, ["o_known", *NEW])
            # Everything said during the outage is in the log, the error text included.
            assert await count(services.db, MessageLog, openid="o_new_lookup", content=bot_texts.ERROR) == 2
            assert "浙江省银行业协会" in content(await hook.send(text_xml("o_new_lookup", LOOKUP)))


# --- SQLite held locked by another process -----------------------------------------------------------

# Another process takes the WAL index's write, checkpoint, recovery and read locks (bytes 120-127
# of the -shm file): no connection can read or write the database until it lets go.
HOLD_SHM = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 8, 120, 0)
print("locked", flush=True)
sys.stdin.read()
"""


class SqliteLock:
    def __init__(self, path: str) -> None:
        self.path = path
        self.proc: subprocess.Popen | None = None

    def hold(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", HOLD_SHM, self.path + "-shm"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(10)
            self.proc = None


async def test_sqlite_locked_every_follower_answered_and_rows_written_after(make_settings, migrated):
    lock = SqliteLock(migrated.split("///", 1)[1])
    async with make_services(make_settings, migrated, keywords=KEYWORDS, **FAST) as services:
        await load_demo(services)
        async with webhook_client(services) as hook:
            assert content(await hook.send(text_xml("o_known", "帮助"))).startswith(texts.HELP_HEADER)
            assert "浙江省银行业协会" in content(await hook.send(text_xml("o_known", LOOKUP)))
            await services.messagelog.flush()
            try:
                lock.hold()
                await outage_round(hook, services)
            finally:
                lock.release()
            await written_after(services, ["o_known", *NEW])
            assert "浙江省银行业协会" in content(await hook.send(text_xml("o_new_lookup", LOOKUP)))


# --- a handler that fails after the budget; a router that cannot refresh ----------------------------


async def test_failure_after_the_budget_is_told_and_logged(make_settings, migrated, sandbox, caplog):
    # Routing itself fails, after the budget: the router's before-routing hook is slow, then its
    # matcher raises.
    late = Router("late")

    @late.on_route
    async def slow(services) -> None:
        await asyncio.sleep(BUDGET + 0.3)

    def broken(message, services):
        raise RuntimeError("late failure")

    late.rule(broken, "broken matcher")(None)
    async with make_services(make_settings, migrated, wechat={"api_base_url": sandbox.url}, **FAST) as services:
        async with webhook_client(services, [late]) as hook:
            sandbox.platform.follower_action("o_late", "message")
            reply, elapsed = await timed(hook, text_xml("o_late", "你好"))
            assert reply == "success" and elapsed < BUDGET + 0.5  # the database is fine: success…
            for _ in range(100):
                if sandbox.platform.state["cs_messages"]:
                    break
                await asyncio.sleep(0.05)
    # …and the failure reaches the follower and the log, instead of nothing.
    cs = sandbox.platform.state["cs_messages"]
    assert [(m["openid"], m["payload"]["content"]) for m in cs] == [("o_late", bot_texts.ERROR)]
    assert "failed after the budget" in caplog.text and "late failure" in caplog.text


async def test_member_index_that_cannot_refresh_breaks_no_message(make_settings, migrated, monkeypatch, caplog):
    from store.members import index

    clock = FakeClock()
    async with make_services(make_settings, migrated, clock=clock, keywords=KEYWORDS) as services:
        await load_demo(services)
        async with webhook_client(services) as hook:
            assert content(await hook.send(text_xml("o_r", "联系方式"))) == "电话 0571"

            async def registry_down(session):
                raise ConnectionRefusedError("database down")

            monkeypatch.setattr(index, "registry_version", registry_down)
            for _ in range(3):
                clock.advance(index.CHECK_EVERY_SECONDS + 1)  # the index is due for a check each time
                assert content(await hook.send(text_xml("o_r", "帮助"))).startswith(texts.HELP_HEADER)
                assert content(await hook.send(text_xml("o_r", "联系方式"))) == "电话 0571"
                # A unit's bare name still routes to the members' handler with the index built
                # before (whose answer needs the database: the error text, not "nothing found").
                assert content(await hook.send(text_xml("o_r", "浙江省银行业协会"))) == bot_texts.ERROR
    assert caplog.text.count("member index: could not refresh") == 1  # said once, not per message
