"""The Redis keys of a distributed run, and what a queue entry holds.

Every key of run ``R`` starts with ``optout-audit:run:R:``:

* ``meta`` (hash): ``state`` (``running`` / ``complete``), ``settings`` (JSON: the settings that
  change results, which every worker crawls with), ``hosts_file`` (the text of ``--hosts-file``,
  so that workers need no shared file system), ``lease`` (seconds), ``seeded`` (groups seeded
  so far) and ``seeding_done``;
* ``sites`` (stream, consumer group ``workers``): one entry per registered domain, holding all of
  its sites (:func:`encode_group`): one worker at a time audits a domain's sites, so N machines
  never hit one server N times harder than one machine would;
* ``done`` (set): the origins whose record is stored in ``results``: a worker that takes over an
  entry skips them;
* ``results`` (stream, consumer group ``coordinator``): one entry per finished record (its
  audit.jsonl line).

``optout-audit:current`` names the run workers join when they are not given one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from optout_audit.app.inputs import InvalidLine, Target
from optout_audit.publicsuffix import registered_domain

__all__ = ["CURRENT", "RESULTS_GROUP", "SITES_GROUP", "RunKeys", "decode_group", "encode_group", "group_targets"]

PREFIX = "optout-audit:"
CURRENT = PREFIX + "current"
SITES_GROUP = "workers"
RESULTS_GROUP = "coordinator"


@dataclass(frozen=True, slots=True)
class RunKeys:
    run_id: str

    @property
    def base(self) -> str:
        return f"{PREFIX}run:{self.run_id}:"

    @property
    def meta(self) -> str:
        return self.base + "meta"

    @property
    def sites(self) -> str:
        return self.base + "sites"

    @property
    def done(self) -> str:
        return self.base + "done"

    @property
    def results(self) -> str:
        return self.base + "results"

    def all(self) -> list[str]:
        return [self.meta, self.sites, self.done, self.results]


def group_targets(entries: Iterable[Target | InvalidLine]) -> tuple[list[tuple[str, list[Target]]], list[InvalidLine]]:
    """The targets grouped by registered domain (groups in order of first appearance, sites in
    line order), and the invalid lines. The same input gives the same groups: a resumed seeding
    continues at the group where it stopped."""
    groups: dict[str, list[Target]] = {}
    invalid: list[InvalidLine] = []
    for entry in entries:
        if isinstance(entry, InvalidLine):
            invalid.append(entry)
        else:
            groups.setdefault(registered_domain(entry.host), []).append(entry)
    return list(groups.items()), invalid


def encode_group(domain: str, targets: list[Target]) -> dict[str, str]:
    """A queue entry's fields: the parsed targets themselves, not a path to a file."""
    rows = [[t.input, t.line, t.host, t.url, t.scheme_given, t.origin] for t in targets]
    return {"domain": domain, "sites": json.dumps(rows, ensure_ascii=False, separators=(",", ":"))}


def decode_group(fields: dict) -> tuple[str, list[Target]]:
    def text(value) -> str:
        return value.decode("utf-8") if isinstance(value, bytes) else value

    fields = {text(key): text(value) for key, value in fields.items()}
    rows = json.loads(fields["sites"])
    return fields["domain"], [Target(row[0], int(row[1]), row[2], row[3], bool(row[4]), row[5]) for row in rows]


def iter_batches(items: list, size: int, start: int = 0) -> Iterator[tuple[int, list]]:
    """(index of the first, slice) for ``items[start:]`` in slices of ``size``."""
    for first in range(start, len(items), size):
        yield first, items[first : first + size]
