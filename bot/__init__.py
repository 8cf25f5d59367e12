"""The bot process: settings, the WeChat protocol (signatures, crypto, parsing, replies), the async
WeChat API client, shared state, routing, and the aiohttp server that ties them together."""
