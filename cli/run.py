"""How a command runs: its coroutine inside app.open_services, on a fresh event loop."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from core.config import Settings
from core.services import Services

Command = Callable[[argparse.Namespace, Services], Awaitable[int | None]]


def with_services(command: Command) -> Callable[[argparse.Namespace, Settings], int]:
    """`command(args, services)` as a `func(args, settings)` for `set_defaults(func=...)`."""

    def func(args: argparse.Namespace, settings: Settings) -> int:
        from app import open_services  # the composition root, loaded only by a command that runs

        async def main() -> int:
            async with open_services(settings) as services:
                return await command(args, services) or 0

        return asyncio.run(main())

    return func
