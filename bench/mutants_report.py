"""One module's mutmut 3 run, summed up (for bench/mutants.sh): mutants, killed, timed out (a
mutant that makes a test hang: caught too), survived, other (no test reached it, not run) on stdout
as a table row; each survivor with file:line, the line
as the mutant has it, on stderr and in <scratch>/survivors.txt.

    python bench/mutants_report.py SCRATCH_DIR NAME FILE...

Reads mutmut's own records beside the mutated copies (mutants/<file>.meta: an exit code per
mutant, 1 killed, 0 survived; <file>.spans: where each function's variants are), so it needs no
mutmut import and runs with any Python 3.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KILLED = {1, 3, -9, -11}  # a failing test (1), an interrupted one (3), a crash
TIMEOUT = {-24, 36, 152}  # mutmut's time limit (SIGXCPU): the mutant made a test hang, which a run notices
NAMES = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", None: "not checked"}


def mutant_line(source: list[str], mutated: list[str], spans: dict, key: str) -> tuple[int, str]:
    """(line in the original file, the mutant's version of it) for mutant `key` ("x_f__mutmut_3")."""
    base = key.rsplit("__mutmut_", 1)[0]
    a, b = spans[base + "__mutmut_orig"]
    c, d = spans[key]
    orig = mutated[a - 1:b]
    mutant = mutated[c - 1:d]
    # The def line is renamed in every variant (and blank lines may come first): compare the bodies.
    d_orig = next(i for i, line in enumerate(orig) if "__mutmut_orig(" in line)
    d_mut = next(i for i, line in enumerate(mutant) if key + "(" in line)
    orig, mutant = orig[d_orig + 1:], mutant[d_mut + 1:]
    offset = next((i for i, (x, y) in enumerate(zip(orig, mutant, strict=False)) if x != y),
                  min(len(orig), len(mutant)) - 1)
    text = mutant[offset].strip() if 0 <= offset < len(mutant) else "(line removed)"
    # The function's body is in the original file as is: find where.
    body = [line.strip() for line in orig]
    stripped = [line.strip() for line in source]
    for start in range(1, len(stripped)):
        if stripped[start:start + len(body)] == body:
            return start + offset + 1, text
    return 0, text


def main(scratch: str, name: str, files: list[str]) -> int:
    root = Path(scratch)
    counts = {"mutants": 0, "killed": 0, "timeout": 0, "survived": 0, "other": 0}
    other: dict[str, int] = {}
    survivors: list[str] = []
    for file in files:
        meta_path = root / "mutants" / (file + ".meta")
        if not meta_path.exists():
            print(f"{name}: no mutmut results for {file} (see {root / 'run.log'})", file=sys.stderr)
            continue
        meta = json.loads(meta_path.read_text())
        spans = json.loads((root / "mutants" / (file + ".spans")).read_text())["spans"]
        source = (root / file).read_text().splitlines()
        mutated = (root / "mutants" / file).read_text().splitlines()
        for key, code in sorted(meta["exit_code_by_key"].items(), key=lambda kv: _order(kv[0])):
            counts["mutants"] += 1
            if code in KILLED:
                counts["killed"] += 1
                continue
            if code in TIMEOUT:
                counts["timeout"] += 1
                continue
            if code == 0:
                counts["survived"] += 1
                short = key.split(".")[-1]
                line, text = mutant_line(source, mutated, spans, short)
                survivors.append(f"{file}:{line}  {short}  {text}")
            else:
                counts["other"] += 1
                what = NAMES.get(code, f"exit {code}")
                other[what] = other.get(what, 0) + 1
    (root / "survivors.txt").write_text("".join(s + "\n" for s in survivors), encoding="utf-8")
    print(f"-- {name}: {counts['survived']} survivors" + (f"; other: {other}" if other else ""), file=sys.stderr)
    for s in survivors:
        print("   " + s, file=sys.stderr)
    caught = counts["killed"] + counts["timeout"]
    checked = caught + counts["survived"]
    pct = f"{100 * caught / checked:.0f} %" if checked else "–"
    print(f"| {name} | {counts['mutants']} | {counts['killed']} | {counts['timeout']} | {counts['survived']} "
          f"| {counts['other']} | {pct} |")
    return 0


def _order(key: str) -> tuple[str, int]:
    base, _, n = key.rpartition("__mutmut_")
    return base, int(n) if n.isdigit() else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
