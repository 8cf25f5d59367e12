"""`bench/webhook.py --memory`: the servers' resident memory sampled each second while the load runs.

The load is run in segments (a pool of pre-built requests for each, sized from the rate measured so
far: a pool for five minutes at once would not fit in memory), so there are short gaps while a
segment's pool is built; memory is sampled through them all the same. Printed: after the warm-up,
the peak, the end, and the last two minutes' low and high (flat means they are close).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

FLAT_SECONDS = 120  # "flat over the last two minutes" (issue 19)


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (Linux /proc), 0 once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Sampler:
    """A thread adding up the servers' RSS once a second: (seconds since start, bytes)."""

    def __init__(self, pids: list[int], every: float = 1.0) -> None:
        self.pids = pids
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - self._t0, sum(rss_bytes(p) for p in self.pids)))
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def mark(self) -> float:
        """Now, on the samples' time line."""
        return time.monotonic() - self._t0

    def report(self, warmed_at: float) -> str:
        mb = 1024 * 1024
        after = [r for t, r in self.samples if t >= warmed_at] or [r for _, r in self.samples]
        start, end, peak = after[0], after[-1], max(after)
        last_t = self.samples[-1][0]
        tail = [r for t, r in self.samples if t >= last_t - FLAT_SECONDS]
        return (f"memory (RSS of all servers, {len(self.samples)} samples): after the warm-up {start / mb:.0f} MB, "
                f"peak {peak / mb:.0f} MB, end {end / mb:.0f} MB (end / after warm-up = {end / start:.2f}); "
                f"last {FLAT_SECONDS} s: {min(tail) / mb:.0f}–{max(tail) / mb:.0f} MB")


def run_memory(run_mode, print_result, mode: str, pids: list[int], args, *run_args) -> list[dict]:
    """Load `mode` for `args.duration` seconds in segments of `args.segment` seconds, sampling RSS;
    returns each segment's result (printed as it comes) and prints the memory figures."""
    results: list[dict] = []
    rate = args.rate_plain if mode == "plain" else args.rate_safe
    segment_args = type(args)(**vars(args))
    with Sampler(pids) as sampler:
        warmed_at = None
        loaded = 0.0
        while loaded < args.duration:
            segment_args.duration = min(args.segment, args.duration - loaded)
            # Twice the rate seen so far (the first segment's pool: the default rate), so that a pool
            # rarely runs out and little time goes into building requests never sent.
            segment_args.pool = int(segment_args.duration * rate)
            r = run_mode(mode, *run_args[:3], segment_args, *run_args[3:], warm=warmed_at is None)
            if warmed_at is None:
                warmed_at = r["warmed_at"] - sampler._t0
            results.append(r)
            print_result(r, segment_args)
            loaded += r["seconds"]
            segment_args.contacted += r["warm_requests"] + r["replies"]
            rate = max(1000, int(2 * r["rps"]))
            print(f"       {loaded:.0f} of {args.duration:g} s loaded; RSS now "
                  f"{sampler.samples[-1][1] / 2**20:.0f} MB", flush=True)
    print(sampler.report(warmed_at or 0.0), flush=True)
    return results
