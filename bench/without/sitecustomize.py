"""`bench/webhook.py --without PARTS`: parts of the webhook's per-message work turned off in the bench's
`serve` processes, to measure what each costs against the bare server (never in the product).

Python imports this module at start-up when this folder is on PYTHONPATH (bench/webhook_servers.py
puts it there only with --without). BENCH_WITHOUT names the parts, comma-separated:

    log     the message log's rows (nothing recorded, nothing written)
    follow  the follower's record (no lookup, no touch, no conversation state, no upsert)
    dedupe  the dedupe and replay maps (every request produces its answer)
    handle  routing and the handler (a text's reply is routed and made once, then reused; other
            messages are handled as usual)

The replies stay the same, so the bench still checks every one of them.
"""

import os
import sys

PARTS = ("log", "follow", "dedupe", "handle")


def parts_of(text: str) -> set[str]:
    """The parts a `--without` value (or BENCH_WITHOUT) names."""
    return {part.strip() for part in text.split(",") if part.strip()}


def _replace(owner, name: str, new) -> None:
    """Put `new` in place of `owner.name`, which must exist: a renamed part fails the run, it is not
    silently left on."""
    if not hasattr(owner, name):
        raise SystemExit(f"bench --without: {owner.__name__}.{name} is gone; update bench/without/sitecustomize.py")
    setattr(owner, name, new)


def switch_off(parts: set[str]) -> None:
    import bot.dedupe
    import bot.dispatch
    import bot.followers
    import bot.messagelog
    from core.shared import NOT_READ

    if "log" in parts:
        _replace(bot.messagelog.LogWriter, "record", lambda self, *args, **kwargs: None)
    if "follow" in parts:
        _replace(bot.followers, "from_follower", lambda message: False)
        _replace(bot.followers.FollowerStore, "version_key_of", lambda self, message: None)
    if "dedupe" in parts:
        async def once(self, key, produce, deadline, read=None, signed=None, signed_at=None):
            return await produce(NOT_READ)

        _replace(bot.dedupe.Dedupe, "once", once)
    if "handle" in parts:
        made: dict = {}
        handle = bot.dispatch.Dispatcher.handle

        async def reused(self, message, follower, state):
            if message.type != "text":
                return await handle(self, message, follower, state)
            text = message.content
            if text not in made:
                made[text] = await handle(self, message, follower, state)
            return made[text]

        _replace(bot.dispatch.Dispatcher, "handle", reused)


_asked = parts_of(os.environ.get("BENCH_WITHOUT", ""))
if _asked:
    sys.path.insert(0, os.getcwd())  # `serve` runs in the project's root; its packages are not on the path yet
    switch_off(_asked)
    sys.stderr.write(f"bench: without {', '.join(sorted(_asked))}\n")
