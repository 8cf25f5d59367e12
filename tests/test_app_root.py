"""The root application (app.create_app): the webhook is one sub-application on it, with its own
middleware and body limit, so another sub-application (the coming console) can sit beside it with
its own. Shown with a dummy sub-app: its failing POST is a plain 500 (the webhook's "always answer
success" middleware does not reach it), and it takes a 1 MB upload, while a 1 MB body sent to the
webhook gets 413, with or without a Content-Length."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app import ROUTERS, create_app
from tests.webhook_helpers import signed_query, text_xml
from tests.webhook_support import make_services

ONE_MB = 1024 * 1024


def dummy_console() -> web.Application:
    console = web.Application()

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("a console bug")

    async def upload(request: web.Request) -> web.Response:
        return web.json_response({"bytes": len(await request.read())})

    console.router.add_post("/boom", boom)
    console.router.add_post("/upload", upload)
    return console


async def test_a_sub_app_beside_the_webhook_keeps_its_own_errors_and_limits(make_settings, migrated):
    async with make_services(make_settings, migrated) as services:
        root = create_app(services, ROUTERS, scheduler=False)
        root.add_subapp("/beside", dummy_console())  # the real console is at /console
        async with TestClient(TestServer(root, host="127.0.0.1")) as client:
            # A failing POST on the console is the console's 500, not the webhook's `success`.
            resp = await client.post("/beside/boom", data=b"x")
            assert resp.status == 500 and await resp.text() != "success"

            # The console takes a 1 MB upload...
            resp = await client.post("/beside/upload", data=b"x" * ONE_MB)
            assert resp.status == 200 and (await resp.json())["bytes"] == ONE_MB

            # ...which the webhook refuses: told by its Content-Length, or counted as it arrives.
            path = services.settings.server.webhook_path
            token = services.settings.wechat.token
            big = text_xml("o_big", "x" * ONE_MB).encode()
            resp = await client.post(path, params=signed_query(token, int(services.clock.time())), data=big)
            assert resp.status == 413

            async def chunks():
                for i in range(0, len(big), 64 * 1024):
                    yield big[i:i + 64 * 1024]

            resp = await client.post(path, params=signed_query(token, int(services.clock.time())), data=chunks())
            assert resp.status == 413 and resp.request_info.headers.get("Transfer-Encoding") == "chunked"

            # And the webhook still answers what is its own.
            resp = await client.post(path, params=signed_query(token, int(services.clock.time())),
                                     data=text_xml("o_small", "帮助"))
            assert resp.status == 200 and "帮助" in await resp.text()


async def test_the_webhook_answers_on_a_path_with_a_trailing_slash(make_settings, migrated):
    async with make_services(make_settings, migrated, server={"webhook_path": "/wechat/"}) as services:
        root = create_app(services, ROUTERS, scheduler=False)
        async with TestClient(TestServer(root, host="127.0.0.1")) as client:
            query = signed_query(services.settings.wechat.token, int(services.clock.time()))
            resp = await client.get("/wechat/", params={**query, "echostr": "hello"})
            assert resp.status == 200 and await resp.text() == "hello"


async def test_the_scheduler_runs_with_the_application_when_enabled(make_settings, migrated, monkeypatch):
    import app

    started, stopped = [], []

    class Handle:
        async def stop(self) -> None:
            stopped.append(True)

    async def start_scheduler(services):
        started.append(services)
        return Handle()

    monkeypatch.setattr(app, "start_scheduler", start_scheduler)
    async with make_services(make_settings, migrated) as services:
        assert services.settings.scheduler.enabled
        async with TestClient(TestServer(create_app(services), host="127.0.0.1")):
            assert started == [services] and stopped == []
        assert stopped == [True]
        async with TestClient(TestServer(create_app(services, scheduler=False), host="127.0.0.1")):
            pass
        assert len(started) == 1
