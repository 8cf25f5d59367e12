"""The platform's state document (the JSON the StateStore keeps): what a fresh one holds, how one saved
by an older version is completed, how an endpoint is named in it, and what is kept of each call."""

from __future__ import annotations

from typing import Any

MAX_CALLS_KEPT = 50_000

# A POST body that is not a JSON object → 47001 data format error (the HTTP face passes this marker).
INVALID_BODY = object()


def empty_state() -> dict[str, Any]:
    return {
        "version": 1,
        "clock_offset": 0.0,
        "seq": 1_000_000_000,
        "tokens": {},
        "current": {"token": None, "stable": None},
        "force_refresh": {"day": "", "count": 0, "last": 0.0},
        "whitelisted": True,
        "followers": {},
        # Every (un)subscription as it happened, oldest first: what 数据统计's follower figures count.
        "follows": [],
        "tags": {"2": "星标组"},
        "images": {},
        "materials": {},
        "news": {},
        "drafts": {},
        "publishes": {},
        "articles": {},
        "mass": {},
        "clientmsgids": {},
        "previews": [],
        "cs_messages": [],
        "stripped_images": [],
        "menu": None,
        "usage": {"day": "", "counts": {}},
        "quota_limits": {},
        "faults": [],
        "publish_faults": [],
        "deliveries": [],
        "calls": [],
        "options": {
            "publish_delay": None,  # None: the constructor's default
            "hold_jobs": False,
            "broadcast_protection": False,
            "draft_media_for_mass": True,
            "webhook_url": None,
            "datacube_delay": False,
        },
    }


def complete(state: dict[str, Any]) -> dict[str, Any]:
    """A state saved before a key existed gets that key's fresh value."""
    fresh = empty_state()
    if "follows" not in state:
        state["follows"] = follows_of(state.get("followers", {}))
    for key, value in fresh.items():
        state.setdefault(key, value)
    for key, value in fresh["options"].items():
        state["options"].setdefault(key, value)
    return state


def follows_of(followers: dict[str, dict]) -> list[dict]:
    """The follow log a state saved before it existed implies: each follower's last (un)subscription."""
    log = []
    for f in followers.values():
        if f.get("subscribe_time") is None:
            continue
        log.append({"at": f["subscribe_time"], "openid": f["openid"], "kind": "subscribe"})
        if not f.get("subscribed") and f.get("unsubscribe_time") is not None:
            log.append({"at": f["unsubscribe_time"], "openid": f["openid"], "kind": "unsubscribe"})
    return sorted(log, key=lambda e: e["at"])


def normalize_endpoint(endpoint: str) -> str:
    """"/cgi-bin/token" → "token"; "/datacube/getusersummary" stays "datacube/getusersummary" (the
    statistics live outside cgi-bin, so "cgi-bin/datacube/..." is left as the unknown URL it is)."""
    e = endpoint.strip().lstrip("/")
    if e.startswith("cgi-bin/") and not e.startswith("cgi-bin/datacube/"):
        e = e[len("cgi-bin/"):]
    return e.split("?", 1)[0].rstrip("/")


def summarize(query: dict, body: Any, files: dict | None) -> dict:
    """What a call carried, small enough to keep: long strings cut, secrets and uploads not kept."""
    def cut(v: Any) -> Any:
        if isinstance(v, str):
            return v if len(v) <= 200 else v[:200] + f"…(+{len(v) - 200})"
        if isinstance(v, dict):
            return {k: ("***" if k in ("secret", "access_token") else cut(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [cut(x) for x in v[:50]]
        return v
    params = {"query": cut(query)}
    if body is INVALID_BODY:
        params["body"] = "(not a JSON object)"
    elif body:
        params["body"] = cut(body)
    if files:
        params["files"] = {k: {"filename": f, "size": len(d)} for k, (f, d) in files.items()}
    return params
