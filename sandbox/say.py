"""`main.py sandbox say --openid X "新闻"`: what the follower simulator does, from the shell. It talks to
the running local platform (`main.py sandbox`) through the simulator's JSON API, so the message is
signed, encrypted and retried exactly as in the page, and prints the reply plus whatever reaches the
follower (customer-service messages, broadcasts) within --wait seconds."""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp

from bot.config import Settings


def register_say(actions, common: argparse.ArgumentParser) -> None:
    say = actions.add_parser(
        "say",
        parents=[common],
        help="send a text as a follower and print the account's answers",
        description="Sends TEXT to the bot as follower --openid through the running local platform "
        "(start it with `main.py sandbox`), following the account first if needed, and prints the "
        "passive reply and any customer-service messages that arrive within --wait seconds.",
    )
    say.add_argument("text", help="what the follower types")
    say.add_argument("--openid", required=True, help="the follower (created and followed if new)")
    say.add_argument("--wait", type=float, default=3.0,
                     help="seconds to wait for customer-service messages after the reply (default 3)")
    say.set_defaults(func=_say)


def _say(args, settings: Settings) -> int:
    base = f"http://{settings.sandbox.host}:{settings.sandbox.port}"
    try:
        return asyncio.run(say(base, args.openid, args.text, args.wait))
    except aiohttp.ClientConnectionError:
        print(f"error: the local platform does not answer at {base}; start it with `main.py sandbox`",
              file=sys.stderr)
        return 1


async def say(base: str, openid: str, text: str, wait: float, out=None) -> int:
    out = out or sys.stdout
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/simulator/api/send",
                             json={"openid": openid, "text": text, "follow_first": True}) as resp:
            data = await resp.json(content_type=None)
        if resp.status != 200:
            print(f"error: {data.get('error', resp.status)}", file=sys.stderr)
            return 1
        items = data["items"]
        for item in items:
            print(format_item(item), file=out, flush=True)
        last = max((i["seq"] for i in items), default=0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            await asyncio.sleep(min(0.5, max(0.0, deadline - loop.time())))
            async with http.get(f"{base}/simulator/api/chat", params={"openid": openid, "after": last}) as r:
                for item in (await r.json())["items"]:
                    print(format_item(item), file=out, flush=True)
                    last = item["seq"]
    return 0 if data["ok"] else 1


def format_item(item: dict) -> str:
    """One chat item as a line (or a few) of text."""
    who = {"follower": "粉丝", "account": "公众号", "system": "——"}[item["side"]]
    tag = f"（{item['tag']}）" if item.get("tag") else ""
    if item["type"] == "news":
        lines = [f"{who}{tag}：[图文]"]
        for a in item["articles"]:
            desc = f" — {a['description']}" if a.get("description") else ""
            lines.append(f"    《{a['title']}》{desc} {a.get('url', '')}".rstrip())
        return "\n".join(lines)
    if item["type"] == "image":
        return f"{who}{tag}：[图片] {item.get('image_url') or item.get('media_id', '')}"
    if item["side"] == "system":
        return f"—— {item['text']} ——"
    return f"{who}{tag}：{item['text']}"
