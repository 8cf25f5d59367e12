"""`main.py sandbox [ACTION]`: the local WeChat platform's commands. Without an action it serves the
platform on [sandbox] host:port (same as `sandbox serve`)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from core.config import Settings


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "sandbox",
        parents=[common],
        help="运行本地微信平台（代替 api.weixin.qq.com，供试用和演练）",
        description="本地微信平台：在 [sandbox] host:port 上像 api.weixin.qq.com 一样提供 /cgi-bin/ 接口，"
        "状态保存在 [sandbox] state_path，按 [sandbox] mode 签名后把粉丝消息和事件发给机器人的 webhook，"
        "并在它的网址上展示草稿、发布记录和群发记录，以及粉丝模拟器。",
    )
    p.set_defaults(func=_serve)
    actions = p.add_subparsers(dest="sandbox_command", required=False, metavar="ACTION")
    serve = actions.add_parser("serve", parents=[common], help="运行本地平台（不写 ACTION 时的默认操作）")
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
    print(f"本地微信平台：{url}/（接口 {url}/cgi-bin/，状态文件 {settings.sandbox.state_path}，"
          f"消息以 {settings.sandbox.mode} 模式发往 {settings.webhook_url}）", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
