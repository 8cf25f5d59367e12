"""bench/webhook.py's traffic: the bench's keyword rules and texts, the requests (one pool file per wrk
thread, for the Lua script below), and the check of every reply (HTTP 200, envelope, XML, addressee,
the reply that follower's text must get). `--compare` points the texts at the bare server's table
(bench/webhook_compare.py): they are read through this module at call time.
"""

from __future__ import annotations

import asyncio
import collections
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from core.config import Settings
from sandbox.delivery import WebhookDelivery, text_message

# The bench's keyword rules: a text reply, a news reply, and a text that matches nothing.
TEXT_KEYWORD = "办事指南"
TEXT_REPLY = "办事指南：登记、年检、评估三项业务均可在线办理，详见官网“办事服务”栏目。"
NEWS_KEYWORD = "年度报告"
NEWS_TITLE = "2025 年度工作报告"
NEWS_URL = "https://example.org/report-2025.html"
NEWS_PICURL = "https://example.org/report-2025.jpg"
NEWS_DESCRIPTION = "总会 2025 年度工作报告全文。"
MISS_TEXT = "今天食堂吃什么呀"
KINDS = ("text", "news", "miss")
SENDS = {"text": TEXT_KEYWORD, "news": NEWS_KEYWORD, "miss": MISS_TEXT}
# More exact text rules, (pattern, reply) (--compare: the bare server's table).
EXTRA_RULES: list[tuple[str, str]] = []

LUA = r"""
-- Pre-built requests, one file per wrk thread: records of "<length>\n<raw HTTP request>".
-- Every response is appended to a per-thread file as "<status> <length>\n<body>" for checking later.
threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local dir = args[1]
  local f = assert(io.open(dir .. "/requests-" .. tid .. ".dat", "rb"))
  local data = f:read("*a")
  f:close()
  pool = {}
  local pos = 1
  while pos <= #data do
    local nl = string.find(data, "\n", pos, true)
    local len = tonumber(string.sub(data, pos, nl - 1))
    table.insert(pool, string.sub(data, nl + 1, nl + len))
    pos = nl + len + 1
  end
  data = nil
  out = assert(io.open(dir .. "/replies-" .. tid .. ".dat", "wb"))
  sent = 0
  exhausted = 0
end

function request()
  if counter > #pool then
    -- Never repeat a MsgId (that would measure the dedupe cache): stop this thread instead.
    exhausted = 1
    wrk.thread:stop()
    return wrk.format("GET", "/__bench_pool_exhausted")
  end
  local r = pool[counter]
  counter = counter + 1
  sent = counter - 1
  return r
end

function response(status, headers, body)
  if exhausted == 1 and status == 404 then return end  -- the stop request above, not a reply
  out:write(status, " ", #body, "\n", body)
end

function done(summary, latency, requests)
  local per_thread = {}
  for _, t in ipairs(threads) do
    table.insert(per_thread, string.format('{"tid": %d, "sent": %d, "exhausted": %d}',
      t:get("tid"), t:get("sent"), t:get("exhausted")))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"duration_us": %d, "requests": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d, "threads": [%s]}\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    table.concat(per_thread, ", ")))
end
"""


@dataclass
class Expected:
    """What each kind of text must be answered with (checked against the rules by calibration)."""

    account_id: str
    replies: dict[str, tuple] = field(default_factory=dict)


def reply_key(inner: ET.Element) -> tuple:
    msg_type = inner.findtext("MsgType")
    if msg_type == "text":
        return ("text", inner.findtext("Content"))
    if msg_type == "news":
        items = tuple(
            (i.findtext("Title"), i.findtext("Description"), i.findtext("Url"), i.findtext("PicUrl"))
            for i in inner.iter("item")
        )
        return ("news", inner.findtext("ArticleCount"), items)
    return (msg_type,)


def followers(n: int) -> list[tuple[str, str]]:
    """(openid, kind): openids shaped like WeChat's (28 characters), kinds mixed evenly."""
    return [(f"oBench{i:06d}" + secrets.token_hex(8)[:16], KINDS[i % 3]) for i in range(n)]


# The signed queries of this run's pools. Thousands of requests are signed within one second here,
# and two with the same timestamp and nonce (one in 10^10, like WeChat's) are one signed query with
# two bodies: the server refuses the second as a replay (403), rightly, since it cannot tell them
# apart. WeChat signs a few dozen a second for an account like ours; the bench draws again instead.
_SIGNED: set[tuple[str, str]] = set()


def build_pool(
    delivery: WebhookDelivery, account_id: str, people: list[tuple[str, str]], count: int,
    first_msg_id: int, host: str, path: str, threads: int, workdir: Path,
) -> list[collections.Counter]:
    """Write `count` raw requests round-robin into one file per wrk thread; return per-thread lists of
    senders in order, so the senders of what each thread actually sent are known afterwards."""
    from urllib.parse import urlencode

    files = [open(workdir / f"requests-{t}.dat", "wb") for t in range(threads)]
    senders: list[list[str]] = [[] for _ in range(threads)]
    now = int(time.time())
    for i in range(count):
        openid, kind = people[i % len(people)]
        xml = text_message(account_id, openid, SENDS[kind], first_msg_id + i, now)
        query, body = delivery.prepare(xml, openid)
        while (query["timestamp"], query["nonce"]) in _SIGNED:
            query, body = delivery.prepare(xml, openid)
        _SIGNED.add((query["timestamp"], query["nonce"]))
        data = body.encode("utf-8")
        raw = (
            f"POST {path}?{urlencode(query)} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        t = i % threads
        files[t].write(b"%d\n" % len(raw) + raw)
        senders[t].append(openid)
    for f in files:
        f.close()
    return senders


def read_replies(path: Path):
    data = path.read_bytes()
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        status, length = data[pos:nl].split(b" ")
        start = nl + 1
        yield int(status), data[start:start + int(length)]
        pos = start + int(length)


def check_reply(status: int, body: bytes, mode: str, delivery: WebhookDelivery, kinds: dict[str, str],
                expected: Expected) -> tuple[str | None, str]:
    """(recipient, "") for a correct reply, else (None, the problem)."""
    if status != 200:
        return None, f"HTTP {status}"
    text = body.decode("utf-8", "replace")
    try:
        if mode == "safe":
            if "<Encrypt>" not in text:
                return None, "safe-mode reply not encrypted"
            text = delivery.decrypt_reply(text)  # checks MsgSignature and the AppID
        inner = ET.fromstring(text)
    except Exception as e:  # every way a reply can break is reported alike
        return None, f"unreadable reply ({type(e).__name__}): {text[:120]!r}"
    to_user = inner.findtext("ToUserName")
    if to_user not in kinds:
        return None, f"addressed to an unknown follower {to_user!r}"
    if inner.findtext("FromUserName") != expected.account_id:
        return None, f"not from the account: {inner.findtext('FromUserName')!r}"
    if not (inner.findtext("CreateTime") or "").isdigit():
        return None, "CreateTime missing"
    got = reply_key(inner)
    want = expected.replies[kinds[to_user]]
    if got != want:
        return None, f"{kinds[to_user]} text answered {got!r}, expected {want!r}"
    return to_user, ""


async def contact_all(url: str, settings: Settings, mode: str, people: list[tuple[str, str]], first_msg_id: int,
                      concurrency: int) -> int:
    """One message from every follower (through Python, `concurrency` at a time), so that the runs that
    follow are the steady state: a warm-up by time reaches only as many followers as the machine's
    load lets it, and the rest would be first contacts (a database read each) in the measured run.
    Returns the messages answered."""
    w = settings.wechat
    ids = iter(range(first_msg_id, first_msg_id + len(people)))
    todo = iter(people)
    answered = 0

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        delivery = WebhookDelivery(url=url, token=w.token, appid=w.appid, encoding_aes_key=w.encoding_aes_key,
                                   mode=mode, http=http, max_retries=0)

        async def worker() -> None:
            nonlocal answered
            for openid, kind in todo:
                result = await delivery.deliver(text_message(w.account_id, openid, SENDS[kind], next(ids),
                                                             int(time.time())))
                answered += result.ok

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return answered


async def calibrate(url: str, settings: Settings, mode: str) -> Expected:
    """Ask each kind once; the keyword replies must be the configured ones, the miss some text."""
    w = settings.wechat
    expected = Expected(w.account_id)
    async with aiohttp.ClientSession() as http:
        delivery = WebhookDelivery(url=url, token=w.token, appid=w.appid, encoding_aes_key=w.encoding_aes_key,
                                   mode=mode, http=http, max_retries=0)
        for kind in KINDS:
            result = await delivery.deliver(
                text_message(w.account_id, "oBenchCalibration" + kind, SENDS[kind],
                             secrets.randbits(60), int(time.time()))
            )
            if not result.ok or not result.reply.startswith("<"):
                raise SystemExit(f"calibration: {kind} message got {result}")
            expected.replies[kind] = reply_key(ET.fromstring(result.reply))
    want_text = ("text", TEXT_REPLY)
    want_news = ("news", "1", ((NEWS_TITLE, NEWS_DESCRIPTION, NEWS_URL, NEWS_PICURL),))
    if expected.replies["text"] != want_text:
        raise SystemExit(f"calibration: {TEXT_KEYWORD} answered {expected.replies['text']}, not the rule's reply")
    if expected.replies["news"] != want_news:
        raise SystemExit(f"calibration: {NEWS_KEYWORD} answered {expected.replies['news']}, not {want_news}")
    if expected.replies["miss"][0] != "text" or not expected.replies["miss"][1]:
        raise SystemExit(f"calibration: a miss answered {expected.replies['miss']}, not a fallback text")
    return expected

