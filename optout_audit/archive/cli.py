"""The archive's commands behind ``optout-audit filter`` (and, later, ``report --from-archive``)."""

from __future__ import annotations

import argparse

from optout_audit.app.errors import UsageError
from optout_audit.archive.finish import EVIDENCE_FILE

__all__ = ["filter_command", "from_archive_command"]


def filter_command(args: argparse.Namespace) -> int:
    from optout_audit.archive.permissions import write_permissions

    if not args.agent and not args.purpose:
        raise UsageError("filter needs --agent NAME or --purpose PURPOSE")
    if not (args.run_dir / "audit.jsonl").is_file():
        raise UsageError(f"{args.run_dir} has no audit.jsonl")
    if not (args.run_dir / EVIDENCE_FILE).is_file():
        raise UsageError(f"{args.run_dir} has no evidence archive (crawled with --no-archive, or unfinished)")
    if not args.urls.is_file():
        raise UsageError(f"URL list not found: {args.urls}")
    counts = write_permissions(args.run_dir, args.urls, args.out, args.agent, args.purpose)
    print(f"{args.out}: {counts['true']} allowed, {counts['false']} not allowed, {counts['unknown']} unknown")
    return 0


def from_archive_command(args: argparse.Namespace) -> int:
    from optout_audit.archive.replay import default_out, rebuild_run

    run_dir = args.run_dir
    if not (run_dir / "audit.jsonl").is_file():
        raise UsageError(f"{run_dir} has no audit.jsonl")
    if not (run_dir / EVIDENCE_FILE).is_file():
        raise UsageError(f"{run_dir} has no evidence archive (crawled with --no-archive, or unfinished)")
    out = args.out or default_out(run_dir)
    if out.resolve() == run_dir.resolve():
        raise UsageError("--out must not be the run folder: its manifest seals what the run wrote")
    if (out / "audit.jsonl").exists():
        raise UsageError(f"{out} already holds an audit.jsonl: choose another --out")
    same = rebuild_run(run_dir, out)
    print(f"rebuilt from the archive into {out}/")
    for name, identical in same.items():
        print(f"  {name:<24} {'identical to the run' if identical else 'differs from the run'}")
    return 0
