"""工作台: what needs an editor today (filled in by console/pages/dashboard parts as they arrive)."""

from __future__ import annotations

from aiohttp import web

from console.web import page, render


@page("/", role="editor", name="dashboard")
async def dashboard(request: web.Request) -> web.Response:
    return await render(request, "dashboard.html")
