"""`main.py sandbox [ACTION]`: the local WeChat platform's commands. Without an action it serves the
platform on [sandbox] host:port (same as `sandbox serve`)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from bot.config import Settings


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "sandbox",
        parents=[common],
        help="run the local WeChat platform (a stand-in for api.weixin.qq.com)",
        description="The local WeChat platform: serves /cgi-bin/ like api.weixin.qq.com on "
        "[sandbox] host:port, keeps its state in [sandbox] state_path, delivers events to the bot's "
        "webhook signed in [sandbox] mode, and shows drafts, publishes and broadcasts at its URL.",
    )
    p.set_defaults(func=_serve)
    actions = p.add_subparsers(dest="sandbox_command", required=False, metavar="ACTION")
    serve = actions.add_parser("serve", parents=[common], help="serve the platform (the default action)")
    serve.set_defaults(func=_serve)
    # Further actions (e.g. `say`) are added to `actions` here.
    from sandbox.say import register_say

    register_say(actions, common)


def _serve(args, settings: Settings) -> int:
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings) -> None:
    """Run the platform until SIGINT/SIGTERM; its state is saved on the way out."""
    from aiohttp import web

    from sandbox.app import make_sandbox_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app = make_sandbox_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.sandbox.host, settings.sandbox.port).start()
    url = f"http://{settings.sandbox.host}:{settings.sandbox.port}"
    print(f"local WeChat platform: {url}/  (API {url}/cgi-bin/, state {settings.sandbox.state_path}, "
          f"events to {settings.webhook_url} in {settings.sandbox.mode} mode)", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
