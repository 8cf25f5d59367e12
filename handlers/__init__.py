"""What answers each message. Each module declares a `router` with its rules next to its handlers;
ROUTERS below is the one place that says in which order they are consulted (first match wins):
built-in commands first (help, news, member lookup, binding, status), then editors' keyword rules,
then events and other message types, then the fallback. A follower's pending step (a numbered
choice, 「更多」) is tried before all of them, and only for input that answers it."""

from bot.router import Router
from handlers import events, fallback, help, keywords, member_stats, members, news, pushes

# Helpers: import your module's `router` and put it at its place in this list.
ROUTERS: list[Router] = [
    help.router,
    news.router,
    members.router,
    member_stats.router,
    keywords.router,
    pushes.router,
    events.router,
    fallback.router,
]
