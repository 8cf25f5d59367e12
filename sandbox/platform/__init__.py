"""The local WeChat platform's rules and state, without HTTP: an independent implementation of what
api.weixin.qq.com does, for tests, benchmarks and editors' rehearsals. It imports nothing of the product
but the settings and the clock (core.config, core.clock, in core.py only).

    core.py       Platform: state, clock, saving, background jobs; call(): faults, token check, quota
    controls.py   what /_sandbox/ does: faults, clock, quotas, followers, tokens, options, reset
    schema.py     the state document: its fresh shape, endpoint names, what is kept of a call
    limits.py     every number enforced, each beside its official page
    errors.py     WxError and WeChat's errmsg for each errcode
    tokens.py     token, stable_token                      messages.py  message/custom/send and its windows
    media.py      media/uploadimg, material/add_material   drafts.py    draft/*, media/uploadnews
    publish.py    freepublish/*                            mass.py      message/mass/*
    account.py    tags/get, menu/*, user/get, user/info    events.py    PUBLISHJOBFINISH, MASSSENDJOBFINISH
    datacube.py   datacube/* (数据统计): date rules, rows    figures.py   their generated, deterministic numbers

Each API module exports `ENDPOINTS` (endpoint → `(platform, query, body, files) -> answer`); core.py
merges them. The HTTP face is sandbox/app.py.
"""

from aiohttp import web

from sandbox.platform.core import ENDPOINTS, PLATFORM_TZ, DropConnection, Platform
from sandbox.platform.errors import WxError
from sandbox.platform.events import PLATFORM_SENDER
from sandbox.platform.limits import FORCE_REFRESH_PER_DAY
from sandbox.platform.schema import INVALID_BODY

# Where the sandbox app keeps its Platform. Here, not in sandbox.app, so that what the app mounts (the
# follower simulator) can reach the platform without importing the app that imports it.
PLATFORM_KEY = web.AppKey("platform", Platform)

__all__ = [
    "ENDPOINTS",
    "FORCE_REFRESH_PER_DAY",
    "INVALID_BODY",
    "PLATFORM_KEY",
    "PLATFORM_SENDER",
    "PLATFORM_TZ",
    "DropConnection",
    "Platform",
    "WxError",
]
