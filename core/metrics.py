"""Every metric of the bot, defined once here, at the bottom of the layers, so that any module may
count what it sees with one line (`metrics.REPLIES.labels("text").inc()`). What needs the database
or the shared state to be known (pushes by state, outbox depth, the scheduler's heartbeat) is read
when /metrics is scraped (ops/scrape.py), not counted here.

Several processes: prometheus-client's multiprocess mode. With `[server] metrics_dir` set, every
process of the deployment (each `serve`, and every `main.py` command) writes its counts to files in
that folder, and whichever process answers /metrics adds them all up: one scrape target for the
whole machine. The folder is one the machine empties at boot, never while the processes run (the
files of a process that died or restarted stay, and their counts in the sums, as counters should).
Without it, each process counts in memory and is a scrape target of its own.

Call sites read the metric through the module (`metrics.REPLIES`), never `from core.metrics import
REPLIES`: `use_directory()` defines the metrics anew on the multiprocess values.
"""

from __future__ import annotations

import os
from pathlib import Path

# The folder comes from `[server] metrics_dir` only (use_directory): one inherited from a parent
# process, perhaps deleted since, would put prometheus-client into multiprocess mode at import.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess, values

# Around WeChat's 5 s: the reply budget (4.5 s by default) and a second either side of it.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 4.5, 5.0, 6.0, 10.0)
# Where the scheduler's last tick is noted (clock.time()), in the shared state.
HEARTBEAT_KEY = "scheduler:heartbeat"

REGISTRY = CollectorRegistry()
_directory: str | None = None


def _define(registry: CollectorRegistry) -> None:
    global WEBHOOK_SECONDS, WEBHOOK_REQUESTS, REPLIES, DEADLINE_FALLBACKS, DEDUPE_HITS, HANDLER_ERRORS
    global CUSTOMER_SENDS, CUSTOMER_REFUSALS, WECHAT_CALLS, TOKEN_REFRESHES, PUSH_TRANSITIONS, IMPORT_RUNS
    global MESSAGELOG_FAILURES, EVICTIONS

    def counter(name: str, doc: str, *labels: str) -> Counter:
        return Counter(f"wxbot_{name}", doc, list(labels), registry=registry)

    WEBHOOK_SECONDS = Histogram(
        "wxbot_webhook_seconds", "Time from a WeChat message arriving to its answer leaving",
        buckets=WEBHOOK_BUCKETS, registry=registry)
    WEBHOOK_REQUESTS = counter("webhook_requests", "Webhook POSTs by HTTP status", "status")
    REPLIES = counter("replies", "Passive answers by kind (text, news, image…; success = none)", "kind")
    DEADLINE_FALLBACKS = counter(
        "deadline_fallbacks", "Handlers past the reply budget, by what the follower got meanwhile", "answer")
    DEDUPE_HITS = counter(
        "dedupe_hits", "WeChat retries answered without running the handler again, by where the first "
        "attempt was (memory: this process; shared: another)", "where")
    HANDLER_ERRORS = counter("handler_errors", "Handlers that raised, by handler", "handler")
    CUSTOMER_SENDS = counter("customer_sends", "Customer-service messages by outcome (sent, held)", "outcome")
    CUSTOMER_REFUSALS = counter(
        "customer_refusals", "Customer-service sends that failed, by errcode (none = no answer)", "errcode")
    WECHAT_CALLS = counter(
        "wechat_calls", "WeChat API calls by endpoint and errcode (0 = ok, none = no answer)",
        "endpoint", "errcode")
    TOKEN_REFRESHES = counter("token_refreshes", "Access tokens fetched, by whether the refresh was forced",
                              "forced")
    PUSH_TRANSITIONS = counter("push_transitions", "Push state changes, by the state entered", "state")
    IMPORT_RUNS = counter("import_runs", "Imports run, by kind (news, members)", "kind")
    MESSAGELOG_FAILURES = counter(
        "messagelog_write_failures", "Message-log batches the database did not take (retried)")
    # The per-process maps of the hot path are bounded by time and by size (bot/dedupe.py,
    # bot/followers.py, bot/messagelog.py): entries dropped for size before their time, by map.
    EVICTIONS = counter(
        "evictions", "Entries dropped from a bounded per-process map before their time ran out, by map", "map")


_define(REGISTRY)


def use_directory(path: str | Path) -> None:
    """Count in prometheus-client's multiprocess files under `path` from now on (once per process;
    what was counted before is not carried over)."""
    global _directory
    path = str(Path(path).resolve())
    if _directory == path:
        return
    Path(path).mkdir(parents=True, exist_ok=True)
    # prometheus-client reads the folder from the environment when a value is made.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    values.ValueClass = values.MultiProcessValue()
    _directory = path
    _define(CollectorRegistry())


def exposition() -> bytes:
    """The counters in Prometheus' text format: this process's, or every process's in multiprocess
    mode."""
    if _directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=_directory)
    return generate_latest(registry)


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    """One value as the exposition shows it (0 when absent): for the dashboard's figures and tests.
    `name` is the sample's name (`wxbot_replies_total`, `wxbot_webhook_seconds_bucket`)."""
    from prometheus_client.parser import text_string_to_metric_families

    want = labels or {}
    total = 0.0
    for family in text_string_to_metric_families(exposition().decode()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
                total += s.value
    return total
