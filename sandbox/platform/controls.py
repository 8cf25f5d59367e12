"""What the `/_sandbox/` endpoints do, for tests, benchmarks and rehearsals: inject faults, move the
clock, set quotas, declare followers and their actions, force a token refresh, withdraw the IP
whitelist, set options, confirm a held broadcast, reset, and read the state and the call log.
`Controls` is mixed into `Platform` (core.py): `self` is the platform, with its state and its jobs."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.platform import mass
from sandbox.platform.limits import DAILY_LIMITS, DEFAULT_DAILY_LIMIT
from sandbox.platform.schema import empty_state, normalize_endpoint
from sandbox.platform.tokens import new_token


class Controls:
    """The control methods of `Platform`; none is a WeChat API."""

    def advance_clock(self, seconds: float) -> float:
        """Move the platform's clock (quotas, windows, token expiry); what it signs keeps real time."""
        self.state["clock_offset"] += float(seconds)
        self.tick()
        self.changed()
        return self.now()

    def add_fault(self, endpoint: str, errcode: int | None = None, times: int | None = 1,
                  latency: float = 0.0, drop: bool = False, publish_status: int | None = None,
                  fail_idx: list[int] | None = None) -> dict:
        """Make the next `times` calls to `endpoint` ("*" = any; "datacube/*" = any of an area) fail
        with `errcode`, wait `latency` seconds, and/or drop the connection. `times=None` = until
        reset. Endpoint "publish_job"
        with `publish_status` (2, 3 or 4) and `fail_idx` makes the next publish(es) fail instead."""
        if endpoint == "publish_job":
            if publish_status not in (2, 3, 4):
                raise ValueError("publish_status must be 2, 3 or 4")
            fault = {"status": publish_status, "fail_idx": fail_idx or [1], "times": times}
            self.state["publish_faults"].append(fault)
        else:
            if errcode is None and not latency and not drop:
                raise ValueError("a fault needs errcode, latency or drop")
            fault = {"endpoint": normalize_endpoint(endpoint), "errcode": errcode, "times": times,
                     "latency": float(latency), "drop": bool(drop)}
            self.state["faults"].append(fault)
        self.changed()
        return fault

    def set_quota(self, endpoint: str, limit: int) -> None:
        self.state["quota_limits"][normalize_endpoint(endpoint)] = int(limit)
        self.changed()

    def quota_limit(self, endpoint: str) -> int:
        return self.state["quota_limits"].get(endpoint, DAILY_LIMITS.get(endpoint, DEFAULT_DAILY_LIMIT))

    def follower_action(self, openid: str, kind: str, at: float | None = None) -> None:
        """A follower did something that opens (or, for unsubscribe, closes) a customer-service window:
        message → 5 messages in 48 h; click/subscribe/scan → 3 in 1 minute. A new action resets the
        window to its full quota (stated for mini-programs, assumed here; unconfirmed)."""
        if kind not in ("message", "click", "subscribe", "scan", "unsubscribe"):
            raise ValueError(f"unknown follower action {kind!r}")
        at = self.now() if at is None else at
        f = self.follower(openid, create=True)
        if kind == "unsubscribe":
            self._log_follow(f, False, at)
            f.update(subscribed=False, unsubscribe_time=at, msg_window=None, event_window=None)
        else:
            if kind == "subscribe" or not f["subscribed"]:
                self._log_follow(f, True, at)
                f.update(subscribed=True, subscribe_time=at)
            if kind == "message":
                f["msg_window"] = {"at": at, "used": 0}
            else:
                f["event_window"] = {"at": at, "used": 0}
        self.changed()

    def set_follower(self, openid: str, subscribed: bool = True, tags: list[int] | None = None) -> dict:
        """Declare a follower (and their tags) without opening any window."""
        f = self.follower(openid, create=True)
        self._log_follow(f, subscribed, self.now())
        if subscribed and not f["subscribed"]:
            f.update(subscribed=True, subscribe_time=self.now())
        elif not subscribed and f["subscribed"]:
            f.update(subscribed=False, unsubscribe_time=self.now(), msg_window=None, event_window=None)
        if tags is not None:
            for tag in tags:
                self.state["tags"].setdefault(str(tag), f"标签{tag}")
            f["tags"] = [int(t) for t in tags]
        self.changed()
        return f

    def _log_follow(self, f: dict, subscribed: bool, at: float) -> None:
        """Keep a change of `f`'s subscription in the follow log (数据统计 counts follows from it)."""
        if subscribed != f["subscribed"]:
            self.state["follows"].append({"at": at, "openid": f["openid"],
                                          "kind": "subscribe" if subscribed else "unsubscribe"})

    def invalidate_token(self, grace: float = 0.0) -> None:
        """Another process force-refreshed: the current tokens stop working after `grace` seconds
        (0 = at once, the worst case for the bot) and new ones become current."""
        now = self.now()
        for kind in ("token", "stable"):
            old = self.state["current"][kind]
            if old and old in self.state["tokens"]:
                self.state["tokens"][old]["revoked_at"] = now + grace
            self.state["current"][kind] = new_token(self, kind) if old else None
        self.changed()

    def set_whitelisted(self, whitelisted: bool) -> None:
        """When False, token and stable_token answer 40164 (this IP is not whitelisted)."""
        self.state["whitelisted"] = bool(whitelisted)
        self.changed()

    def configure(self, **options: Any) -> dict:
        """publish_delay (s), hold_jobs (publishes and mass sends wait for release), broadcast_protection,
        draft_media_for_mass (False: mass send refuses draft media_ids with 40007, as the community
        reports; use uploadnews), webhook_url, datacube_delay (True: the 发表内容 statistics answer
        is_delay: true, their figures not final yet)."""
        for key, value in options.items():
            if key not in self.state["options"]:
                raise ValueError(f"unknown option {key!r}")
            self.state["options"][key] = value
        if "hold_jobs" in options:
            (self._released.clear if options["hold_jobs"] else self._released.set)()
        self.changed()
        return dict(self.state["options"])

    @property
    def publish_delay(self) -> float:
        value = self.state["options"]["publish_delay"]
        return self.default_publish_delay if value is None else float(value)

    @property
    def webhook_url(self) -> str:
        value = self.state["options"]["webhook_url"]
        return self.default_webhook_url if value is None else value

    def confirm_mass(self, msg_id: int) -> None:
        """The administrator confirms a broadcast held by broadcast protection."""
        mass.confirm(self, msg_id)

    def reset(self) -> None:
        """Forget everything (tokens, followers, drafts, quotas, faults, calls)."""
        self.state = empty_state()
        self._released.set()
        self.changed()

    def snapshot(self, calls: bool = True) -> dict[str, Any]:
        state = copy.deepcopy(self.state)
        if not calls:
            state.pop("calls")
        state["now"] = self.now()
        state["day"] = self.day()
        state["base_url"] = self.base_url
        return state

    def calls(self, endpoint: str | None = None, errcode: int | None = None) -> list[dict]:
        """Recorded API calls (oldest first), optionally of one endpoint and/or errcode."""
        ep = normalize_endpoint(endpoint) if endpoint else None
        return [c for c in self.state["calls"]
                if (ep is None or c["endpoint"] == ep) and (errcode is None or c["errcode"] == errcode)]
