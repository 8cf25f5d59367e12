"""What answers each message: one module per feature, each declaring a `router` with its rules next to
its handlers (`async def handler(message, ctx) -> Reply | None`: no HTTP, no crypto, no XML). The
order in which the routers are consulted is app.ROUTERS, the one priority list."""
