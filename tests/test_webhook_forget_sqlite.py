"""`main.py followers forget` on the embedded default: the command is another process on the same
SQLite file, with no shared state; the running server must not write the erased follower back."""

from __future__ import annotations

from sqlalchemy import select

from bot import messagelog
from bot.server import WEBHOOK
from store.members.demo import load_demo
from store.models.webhook import Follower, MessageLog
from tests.webhook_helpers import text_xml, webhook_client
from tests.webhook_support import make_services

OPENID = "o_erase_sqlite"


async def test_forget_from_a_command_is_not_undone_by_the_running_server(make_settings, migrated):
    async with make_services(make_settings, migrated) as server:
        await load_demo(server)
        async with webhook_client(server) as hook:
            assert "1." in (await hook.send(text_xml(OPENID, "会员 婚姻家庭协会"), mode="safe"))["Content"]
            await hook.send(text_xml(OPENID, "你好"), mode="safe")  # still in the server's batch

            async with make_services(make_settings, migrated) as command:  # `followers forget`
                await messagelog.forget(command, OPENID)

            await hook.client.app[WEBHOOK].dispatcher.drain()
            await server.messagelog.flush()  # a batch written after the erasure is erased again
            async with server.db() as session:
                assert await session.get(Follower, OPENID) is None
                assert list(await session.scalars(select(MessageLog).where(MessageLog.openid == OPENID))) == []

            # The cached record and its pending numbered choice went too: "1" is not a choice now.
            reply = (await hook.send(text_xml(OPENID, "1"), mode="safe"))["Content"]
            assert "浙江省婚姻家庭协会" not in reply
            await server.messagelog.flush()
            async with server.db() as session:
                row = await session.get(Follower, OPENID)
                assert row is not None and row.state is None
