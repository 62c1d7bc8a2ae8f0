"""The commands for runs over time: ``runs [DIR]``, ``diff OLD NEW [--out FILE]``, ``history RUNS_DIR``.

Each takes the parsed arguments of :mod:`optout_audit.app.cli` and returns the exit code; mistakes
the user can fix raise :class:`~optout_audit.app.errors.UsageError` (one line, exit code 2). The
pandas work is in :mod:`optout_audit.report.runs`, :mod:`~optout_audit.report.diff` and
:mod:`~optout_audit.report.history`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from optout_audit.app.errors import UsageError
from optout_audit.app.terminal import printable
from optout_audit.auditfile import AUDIT_FILE

__all__ = ["COMMANDS"]


def _run_folder(path: Path, role: str) -> Path:
    if not path.is_dir():
        raise UsageError(f"{role} run folder not found: {path}")
    if not (path / AUDIT_FILE).is_file():
        raise UsageError(f"{path} is not a run folder: it has no audit.jsonl")
    return path


def _out_file(path: Path) -> Path:
    if path.is_dir():
        raise UsageError(f"--out must be a file, not a folder: {path}")
    if not path.parent.is_dir():
        raise UsageError(f"folder of --out not found: {path.parent}")
    return path


def runs(args: argparse.Namespace) -> int:
    from optout_audit.report.runs import find_runs, format_table, run_records, run_table

    if not args.dir.is_dir():
        raise UsageError(f"folder not found: {args.dir}")
    found = find_runs(args.dir)
    if not found:
        print(f"no runs in {args.dir}/ (a run folder holds run.json or audit.jsonl)")
        return 0
    print("\n".join(printable(line) for line in run_records(found).pipe(run_table).pipe(format_table).splitlines()))
    return 0


def diff(args: argparse.Namespace) -> int:
    from optout_audit.report.diff import diff_runs

    old, new = _run_folder(args.old, "old"), _run_folder(args.new, "new")
    out = _out_file(args.out) if args.out else None
    result = diff_runs(old, new, out)
    print(f"changes from {old} to {new} written to {result.path}")
    for line in result.summary:
        print(f"  {printable(line)}")
    return 0


def history(args: argparse.Namespace) -> int:
    from optout_audit.report.history import run_trends, write_trends
    from optout_audit.report.runs import find_runs

    if not args.runs_dir.is_dir():
        raise UsageError(f"folder not found: {args.runs_dir}")
    found = [path for path in find_runs(args.runs_dir) if (path / AUDIT_FILE).is_file()]
    if not found:
        raise UsageError(f"no runs with an audit.jsonl in {args.runs_dir}")
    out = _out_file(args.out) if args.out else args.runs_dir / "trends.csv"
    trends = run_trends(found)
    write_trends(trends, out)
    print(f"trends of {len(trends)} runs written to {out}")
    return 0


COMMANDS = {"runs": runs, "diff": diff, "history": history}
