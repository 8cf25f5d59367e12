"""`main.py sandbox say --openid X "新闻"`: what the follower simulator does, from the shell. It talks to
the running local platform (`main.py sandbox`) through the simulator's JSON API, so the message is
signed, encrypted and retried exactly as in the page, and prints what the follower's phone shows.

It returns as soon as the answer is there: the passive reply, or, when the bot answered `success`
and sends its answer later (a slow handler), the first message that arrives within --wait seconds;
then it lingers SETTLE_SECONDS for what follows straight after (the rest of a long text)."""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp

from core.config import Settings

POLL_SECONDS = 0.1
SETTLE_SECONDS = 0.3

# What the shell shows (Chinese, as the simulator page).
TEXTS = {
    "help": "以粉丝身份发送一句话，打印公众号的回答",
    "description": "通过运行中的本地微信平台（用 `main.py sandbox` 启动）以粉丝 --openid 的身份向机器人发送 TEXT"
    "（新粉丝会先关注），打印被动回复；机器人稍后才发出的回答（客服消息）最多等 --wait 秒。收到回答即返回。",
    "text": "粉丝输入的文字",
    "openid": "粉丝的 openid（新粉丝会自动创建并关注）",
    "wait": "没有立即回复时，最多等多少秒（默认 5）",
    "no_platform": "错误：本地平台 {base} 没有应答；请先用 `main.py sandbox` 启动它",
    "error": "错误：{error}",
    "who": {"follower": "粉丝", "account": "公众号", "system": "——"},
    "news": "[图文]",
    "image": "[图片]",
}


def register_say(actions, common: argparse.ArgumentParser) -> None:
    say = actions.add_parser("say", parents=[common], help=TEXTS["help"], description=TEXTS["description"])
    say.add_argument("text", metavar="TEXT", help=TEXTS["text"])
    say.add_argument("--openid", required=True, help=TEXTS["openid"])
    say.add_argument("--wait", type=float, default=5.0, metavar="SECONDS", help=TEXTS["wait"])
    say.set_defaults(func=_say)


def _say(args, settings: Settings) -> int:
    base = f"http://{settings.sandbox.host}:{settings.sandbox.port}"
    try:
        return asyncio.run(say(base, args.openid, args.text, args.wait))
    except aiohttp.ClientConnectionError:
        print(TEXTS["no_platform"].format(base=base), file=sys.stderr)
        return 1


async def say(base: str, openid: str, text: str, wait: float, out=None, settle: float = SETTLE_SECONDS) -> int:
    out = out or sys.stdout
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/simulator/api/send",
                             json={"openid": openid, "text": text, "follow_first": True}) as resp:
            data = await resp.json(content_type=None)
        if resp.status != 200:
            print(TEXTS["error"].format(error=data.get("error", resp.status)), file=sys.stderr)
            return 1
        items = data["items"]
        for item in items:
            print(format_item(item), file=out, flush=True)
        last = max((i["seq"] for i in items), default=0)
        if not data["ok"]:  # WeChat gave up: nothing more will come
            return 1
        loop = asyncio.get_running_loop()
        mine = max((i["seq"] for i in items if i["side"] == "follower"), default=0)
        answered = any(i["side"] == "account" and i["seq"] > mine for i in items)  # not the welcome
        deadline = loop.time() + (settle if answered else wait)
        while loop.time() < deadline:
            await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - loop.time())))
            async with http.get(f"{base}/simulator/api/chat", params={"openid": openid, "after": last}) as r:
                new = (await r.json())["items"]
            for item in new:
                print(format_item(item), file=out, flush=True)
                last = item["seq"]
            if any(i["side"] == "account" for i in new):
                deadline = loop.time() + settle  # the answer is here; only what follows at once
    return 0


def _text(item: dict) -> str:
    """A text as the phone shows it: a link's words, with its address after them for the shell."""
    parts = item.get("parts")
    if not parts:
        return item["text"]
    return "".join(f"{p['text']}（{p['href']}）" if p.get("href") else p["text"] for p in parts)


def format_item(item: dict) -> str:
    """One chat item as a line (or a few) of text."""
    who = TEXTS["who"][item["side"]]
    tag = f"（{item['tag']}）" if item.get("tag") else ""
    if item["type"] == "news":
        lines = [f"{who}{tag}：{TEXTS['news']}"]
        for a in item["articles"]:
            desc = f" — {a['description']}" if a.get("description") else ""
            lines.append(f"    《{a['title']}》{desc} {a.get('url', '')}".rstrip())
        return "\n".join(lines)
    if item["type"] == "image":
        return f"{who}{tag}：{TEXTS['image']} {item.get('image_url') or item.get('media_id', '')}"
    if item["side"] == "system":
        return f"—— {item['text']} ——"
    return f"{who}{tag}：{_text(item)}"
