"""WeChat itself: the webhook protocol (signatures, crypto, parsing), typed events, reply values and
their XML, the platform's limits and errors, the menu check, and the async API client. It knows no
server and no database."""
