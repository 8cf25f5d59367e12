"""The operator's site: /metrics (Prometheus' text format), /healthz and /readyz (JSON), served by
app.serve on `[server] metrics_host:metrics_port`, apart from the public webhook. /readyz answers
503 when a check fails, with the check that failed and why."""

from __future__ import annotations

from aiohttp import web

from core.services import Services
from ops import health, scrape

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def ops_app(services: Services) -> web.Application:
    app = web.Application(client_max_size=1024)

    async def get_metrics(_request: web.Request) -> web.Response:
        return web.Response(body=await scrape.exposition(services), headers={"Content-Type": CONTENT_TYPE})

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response(health.liveness())

    async def readyz(_request: web.Request) -> web.Response:
        found = await health.readiness(services)
        return web.json_response(found, status=200 if found["ready"] else 503)

    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
