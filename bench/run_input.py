"""A run's work on its input list at open and finish, against the code it replaced, in the same run.

    python -m bench.run_input [--lines 1000000] [--rounds 3] [--label TEXT]

A synthetic list (bare domains, URLs with paths, other spellings of earlier sites, invalid lines,
IDN names, comments and blank lines) is written to a temporary folder. Then, alternately, CPU
seconds (``time.process_time``, the best of ``--rounds``) of:

* **before**, the reference code below (the functions as they were at BASELINE_COMMIT): at open
  ``check_input`` (read, decode, count), ``file_sha256`` (read again) and the copy into the run
  folder; at finish ``count_entries`` (the whole list parsed again);
* **after**: at open one read, :func:`~optout_audit.app.inputs.input_facts` on those bytes and the
  copy written from them; at finish nothing, since the crawl's own read of the list counted the
  entries (``Run.entries``).

The crawl's read of the list is measured too, before (``read_targets`` as it was) and after
(:class:`~optout_audit.app.inputs.InputEntries`, which counts as it goes), since the count now
rides on it; and the finish of a run stopped before its spider had read the whole list, which
still counts the entries itself. Every answer (SHA-256, data lines, entries) is checked to be the
same both ways. Prints a table and saves it to ``bench/results/<UTC time>-run-input.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from optout_audit.app import inputs
from optout_audit.files import file_sha256

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BASELINE_COMMIT = "c2a2f37"

# -- the reference: optout_audit/app/inputs.py's functions at BASELINE_COMMIT -----------------------

_TRANCO_LINE = re.compile(r"^\s*\d+\s*,\s*[^,\s]+\s*$")


def _old_values(text: str) -> Iterator[tuple[str, int]]:
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    if ("," in first and not _TRANCO_LINE.match(first)) or first.strip().strip('"').lower() in ("url", "domain"):
        yield from inputs._csv_values(lines)
        return
    for number, raw in enumerate(lines, start=1):
        if _TRANCO_LINE.match(raw):
            raw = raw.split(",", 1)[1]
        yield raw, number


def _old_read_text(path: Path) -> str:
    return inputs._decode(Path(path).read_bytes())


def old_check_input(path: Path) -> int:
    lines = sum(1 for raw, _ in _old_values(_old_read_text(path)) if raw.strip() and not raw.lstrip().startswith("#"))
    if not lines:
        raise inputs.InputError("the input file has no URL or domain lines (only comments or blank lines)")
    return lines


def old_read_targets(path: Path) -> Iterator[inputs.Target | inputs.InvalidLine]:
    seen: set[str] = set()
    for raw, number in _old_values(_old_read_text(path)):
        entry = inputs.parse_line(raw, number)
        if entry is None:
            continue
        if isinstance(entry, inputs.Target):
            if entry.origin in seen:
                continue
            seen.add(entry.origin)
        yield entry


def old_count_entries(path: Path) -> int:
    return sum(1 for _ in old_read_targets(path))


# -- the two ways ---------------------------------------------------------------------------------


def before_open(path: Path, copy: Path) -> tuple[str, int]:
    lines = old_check_input(path)
    sha = file_sha256(path)
    shutil.copyfile(path, copy)
    return sha, lines


def after_open(path: Path, copy: Path) -> tuple[str, int]:
    data = inputs.read_input(path)
    facts = inputs.input_facts(data)
    copy.write_bytes(data)
    return facts.sha256, facts.lines


def before_crawl_read(path: Path) -> int:
    count = 0
    for _ in old_read_targets(path):
        count += 1  # stands for the spider's work per entry, the same both ways
    return count


def after_crawl_read(path: Path) -> int:
    entries = inputs.InputEntries(path)
    count = 0
    for _ in entries:
        count += 1
    assert entries.count == count
    return entries.count


def synthetic_list(lines: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    out = ["# synthetic list for bench.run_input", ""]
    for number in range(lines - 2):
        roll = rnd.random()
        if roll < 0.02:
            out.append(f"not a url {number}")
        elif roll < 0.05 and number:
            out.append(f"HTTPS://Site{rnd.randrange(number)}.example/again")  # another spelling of an earlier site
        elif roll < 0.06:
            out.append(f"bücher{number}.test")
        elif roll < 0.07:
            out.append("" if roll < 0.065 else f"# note {number}")
        elif roll < 0.5:
            out.append(f"https://site{number}.example/path/page?q={number}")
        else:
            out.append(f"site{number}.example")
    return "\n".join(out) + "\n"


def cpu_best(function: Callable[[], object], rounds: int) -> tuple[float, object]:
    best, answer = float("inf"), None
    for _ in range(rounds):
        start = time.process_time()
        answer = function()
        best = min(best, time.process_time() - start)
    return best, answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_input", description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="input lines (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each measure, the best kept (default 3)")
    parser.add_argument("--label", default="run-input", help="results file suffix (default run-input)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-run-input-") as folder:
        path = Path(folder) / "sites.txt"
        path.write_text(synthetic_list(args.lines), "utf-8")
        copy = Path(folder) / "input.txt"
        size_mb = path.stat().st_size / 1e6
        timings: dict[str, float] = {}
        answers: dict[str, object] = {}
        for _ in range(args.rounds):  # alternately, so that a busy moment of the machine hits both
            for name, function in (
                ("before open", lambda: before_open(path, copy)),
                ("after open", lambda: after_open(path, copy)),
                ("before finish", lambda: old_count_entries(path)),
                ("after finish, list read whole", lambda: None),  # Run.entries, from the crawl
                ("after finish, crawl stopped early", lambda: inputs.count_entries(path)),
                ("before crawl read", lambda: before_crawl_read(path)),
                ("after crawl read", lambda: after_crawl_read(path)),
            ):
                seconds, answer = cpu_best(function, 1)
                timings[name] = min(timings.get(name, float("inf")), seconds)
                answers[name] = answer
    sha, lines = answers["before open"]
    entries = answers["before finish"]
    same = (
        answers["after open"] == (sha, lines)
        and sha == hashlib.sha256(synthetic_list(args.lines).encode("utf-8")).hexdigest()
        and answers["after finish, crawl stopped early"] == entries
        and answers["before crawl read"] == answers["after crawl read"] == entries
    )
    if not same:
        print(f"the answers differ: {answers}", file=sys.stderr)
        return 1
    before = timings["before open"] + timings["before finish"]
    after = timings["after open"] + timings["after finish, list read whole"]
    stopped = timings["after open"] + timings["after finish, crawl stopped early"]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    rows = [
        ("open: check_input + file_sha256 + copy (before)", timings["before open"]),
        ("open: one read, input_facts, copy from the bytes (after)", timings["after open"]),
        ("finish: count_entries, the list parsed again (before)", timings["before finish"]),
        ("finish: Run.entries from the crawl (after)", timings["after finish, list read whole"]),
        (
            "finish of a crawl stopped before reading the list whole (after)",
            timings["after finish, crawl stopped early"],
        ),
        ("the crawl's read of the list: read_targets (before)", timings["before crawl read"]),
        ("the crawl's read of the list: InputEntries, counting (after)", timings["after crawl read"]),
    ]
    text = "\n".join(
        [
            f"## bench.run_input {stamp} ({args.label})",
            "",
            f"`python -m bench.run_input --lines {args.lines} --rounds {args.rounds}`: {args.lines:,} input lines "
            f"({size_mb:.1f} MB), {lines:,} data lines, {entries:,} entries (distinct sites + invalid lines); "
            f"CPU seconds, best of {args.rounds} alternating rounds; before = the functions of {BASELINE_COMMIT} "
            f"(reference copies in bench/run_input.py); Python {platform.python_version()}, 2 cores shared with "
            "other sessions. Same SHA-256, data lines and entries both ways.",
            "",
            "| step | CPU s |",
            "|---|---:|",
            *(f"| {name} | {seconds:.3f} |" for name, seconds in rows),
            "",
            f"- open + finish, before: {before:.3f} s; after: {after:.3f} s; "
            f"ratio after / before {after / before:.3f} ({before / after:.1f}x less)",
            f"- open + finish of a crawl stopped before its spider read the whole list (after): {stopped:.3f} s, "
            f"ratio {stopped / before:.3f}",
            f"- the crawl's read of the list, after / before: "
            f"{timings['after crawl read'] / timings['before crawl read']:.3f}",
            "",
        ]
    )
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stamp}-{args.label}.md").write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
