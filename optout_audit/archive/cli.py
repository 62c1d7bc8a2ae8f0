"""The archive's commands behind ``optout-audit filter`` (and, later, ``report --from-archive``)."""

from __future__ import annotations

import argparse

from optout_audit.app.errors import UsageError
from optout_audit.archive.finish import EVIDENCE_FILE

__all__ = ["filter_command"]


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
