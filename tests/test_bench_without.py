"""bench/webhook.py --without: the parts it turns off in `serve` still exist under the names it
replaces, and it replaces them (a rename must fail the bench, not measure the product unchanged)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import bot.dedupe, bot.dispatch, bot.followers, bot.messagelog
print(bot.messagelog.LogWriter.record.__qualname__, bot.followers.from_follower.__qualname__,
      bot.dedupe.Dedupe.once.__module__, bot.dispatch.Dispatcher.handle.__qualname__)
"""


def run(without: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, BENCH_WITHOUT=without, PYTHONPATH=str(ROOT / "bench" / "without"))
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_every_part_is_replaced_in_the_served_process():
    done = run("log,follow,dedupe,handle")
    assert done.returncode == 0, done.stderr
    assert "bench: without dedupe, follow, handle, log" in done.stderr
    record, from_follower, once_module, handle = done.stdout.split()
    assert record == from_follower == "switch_off.<locals>.<lambda>"
    assert once_module == "sitecustomize"
    assert handle == "switch_off.<locals>.reused"


def test_without_nothing_the_product_is_as_it_is():
    done = run("")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["LogWriter.record", "from_follower", "bot.dedupe", "Dispatcher.handle"]


def test_a_part_that_is_gone_stops_the_bench():
    spec = importlib.util.spec_from_file_location("without_probe", ROOT / "bench" / "without" / "sitecustomize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Owner:
        pass

    with pytest.raises(SystemExit, match="Owner.record is gone"):
        module._replace(Owner, "record", None)
