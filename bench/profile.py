"""Profile one client against the bench web, or the report stage: py-spy (native, whole tree) or cProfile.

    python -m bench.profile [--hosts 3000] [--tool py-spy|cprofile] [--client project|floor|limit] [--out DIR]
    python -m bench.profile --client report [--report-rows 100000] [--tool py-spy|cprofile]

Starts the same local web as ``bench.run`` (no web for ``report``: ``optout-audit report`` on
synthetic rows, its worker processes included with py-spy), runs the client under the profiler and leaves in
``--out`` (default ``bench/out/profile-<client>``): ``pyspy.txt`` (collapsed stacks, for
flamegraphs) and ``pyspy-top.txt`` (functions by own and total samples), or ``cprofile.pstats``
and ``cprofile.txt`` (top functions by cumulative and internal time).
"""

from __future__ import annotations

import argparse
import collections
import os
import pstats
import shutil
import subprocess
import sys
from pathlib import Path

from bench.run import BIN, _env, synthetic_run
from bench.web import ROOT, bench_web, write_inputs


def top_of_collapsed(collapsed: Path, limit: int = 60) -> str:
    """Functions by self and total samples, from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.read_text("utf-8", "replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        samples += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    lines = [f"{samples} samples", "", "own%   frame"]
    lines += [f"{100 * n / samples:5.1f}  {frame}" for frame, n in own.most_common(limit)]
    lines += ["", "total% frame"]
    lines += [f"{100 * n / samples:5.1f}  {frame}" for frame, n in total.most_common(limit)]
    return "\n".join(lines) + "\n"


def _profile(target: list[str], args: argparse.Namespace, out: Path, env: dict[str, str]) -> None:
    """Run ``python *target`` under the chosen profiler, output in ``out``."""
    if args.tool == "py-spy":
        argv = [
            str(BIN / "py-spy"),
            "record",
            "--format",
            "raw",
            "--rate",
            str(args.rate),
            "--subprocesses",
            "-o",
            str(out / "pyspy.txt"),
            "--",
            sys.executable,
            *target,
        ]
    else:  # the report process only: cProfile does not follow worker processes
        argv = [sys.executable, "-m", "cProfile", "-o", str(out / "cprofile.pstats"), *target]
    with (out / "client.log").open("wb") as log:
        subprocess.run(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--hosts", type=int, default=3000)
    parser.add_argument("--latency", default="50,150")
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--tool", choices=("py-spy", "cprofile"), default="py-spy")
    parser.add_argument("--client", choices=("project", "floor", "limit", "report"), default="project")
    parser.add_argument("--report-rows", type=int, default=100_000, help="synthetic audit rows for --client report")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from optout_audit.webfarm import running_farm

    out = args.out or ROOT / "bench" / "out" / f"profile-{args.client}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = _env()
    if args.client == "report":
        synthetic_run(args.report_rows, out / "run")
        _profile(["-m", "optout_audit.app.cli", "report", str(out / "run")], args, out, env)
    else:
        web = bench_web(args.hosts, 1)
        sites, plan, _ = write_inputs(web, out / "input")
        low, _, high = args.latency.partition(",")
        with running_farm(
            web, latency=(float(low), float(high or low)), log_requests=False, workdir=out / "farm"
        ) as farm:
            common = ["--concurrency", str(args.concurrency)]
            if args.client == "project":
                target = [
                    "-m",
                    "optout_audit.app.cli",
                    "crawl",
                    str(sites),
                    "--out",
                    str(out / "run"),
                    "--hosts-file",
                    str(farm.hosts_file),
                    *common,
                ]
            elif args.client == "floor":
                target = ["-m", "bench.floor", str(plan), str(farm.hosts_file), str(out / "floor.jsonl"), *common]
            else:
                target = ["-m", "bench.limit", str(plan), str(farm.hosts_file), *common]
            _profile(target, args, out, env)
    if args.tool == "py-spy" and (out / "pyspy.txt").exists():
        (out / "pyspy-top.txt").write_text(top_of_collapsed(out / "pyspy.txt"))
        print((out / "pyspy-top.txt").read_text()[:6000])
    elif (out / "cprofile.pstats").exists():
        with (out / "cprofile.txt").open("w") as report:
            stats = pstats.Stats(str(out / "cprofile.pstats"), stream=report)
            stats.sort_stats("cumulative").print_stats(70)
            stats.sort_stats("tottime").print_stats(50)
        print((out / "cprofile.txt").read_text()[:12000])
    print(f"profile in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
