"""Time as a dependency (every deadline, delay and window reads this, so tests can move it), and
how a time is shown to users: in the configured zone, labelled."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    """Real time. `now()` is aware UTC; `monotonic()` measures durations; `sleep()` waits."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock(Clock):
    """A clock that only moves when told to; `sleep()` advances it instead of waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def time(self) -> float:
        return self._now.timestamp()

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


# How users read a time: in the configured zone ([scheduler] timezone), labelled with it.
ZONE_LABELS = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间", "PRC": "北京时间",
               "Asia/Hong_Kong": "香港时间", "Asia/Macau": "澳门时间", "Asia/Taipei": "台北时间"}


def zone_label(timezone: str) -> str:
    """"北京时间" for Asia/Shanghai; other zones by their name."""
    return ZONE_LABELS.get(timezone, timezone)


def local_time(at: datetime, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`at` (aware) in `timezone`, without a label: for lists whose heading names the zone."""
    return at.astimezone(ZoneInfo(timezone)).strftime(fmt)


def shown_time(at: datetime, timezone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`at` in `timezone` with its label: "2026-03-01 20:00（北京时间）"."""
    return f"{local_time(at, timezone, fmt)}（{zone_label(timezone)}）"


def local_date(at: datetime, timezone: str) -> date:
    """The calendar date at `at` in `timezone` (years and days turn over there, not in UTC)."""
    return at.astimezone(ZoneInfo(timezone)).date()
