"""A site's 166 agent rows from its compact record, computed once per distinct (other, named) pair.

A record keeps ``other_agents`` (the result every unnamed listed agent shares) and the few
``agents`` entries that a user-agent line names. A run has few distinct such pairs (most sites
name no agent, and the ``other_agents`` results repeat), so everything that follows from the pair
alone is computed once per pair and reused:

- :func:`agent_text`: the site's domain_agents.csv rows as ``pieces`` to join with the domain's
  cell: ``cell.join(pieces)`` is ``cell,GPTBot,training,full,...\\n`` for every listed agent;
- :func:`site_counts`: the site's ``training_agents_full`` / ``ai_agents_named`` cells of
  domains.csv and what it adds to agents.csv's counts.

The values follow :func:`optout_audit.report.agents.per_site_agent`: a named entry replaces its
agent's row (the last one wins when an agent is named twice), entries of unlisted agents are
ignored, a missing verdict is ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import msgspec

from optout_audit.items import AGENT_VERDICTS
from optout_audit.report.agents import listed_agents
from optout_audit.report.csvsafe import text_cell
from optout_audit.report.schema import EXACT_INT, AgentResult, decode_result, decode_results

__all__ = ["Irregular", "Key", "SiteCounts", "agent_count", "agent_text", "site_counts"]

#: The JSON texts of a record's ``other_agents`` and ``agents`` (b"" when absent, see schema.Record):
#: all that the site's agent rows depend on.
Key = tuple[bytes, bytes]
#: An agent row's values: verdict, named, via, rule, line.
_Values = tuple[str, bool | None, str | None, str | None, int | None]

_BOOL = {True: "true", False: "false", None: ""}
_VERDICT_COLUMN = {verdict: column for column, verdict in enumerate(AGENT_VERDICTS)}
#: Beyond this many distinct keys a cache starts afresh: real runs can have a key per site.
_CACHE_LIMIT = 20_000


class Irregular(Exception):
    """A value the fast path does not reproduce exactly; the chunk takes the pandas path."""


@dataclass(frozen=True, slots=True)
class SiteCounts:
    """What one site with this key adds to domains.csv and agents.csv."""

    training_full: str  # the domains.csv cell: "" when no agent's verdict is known
    named: str
    base: tuple[int | None, bool]  # every listed agent: the verdict column (None: not counted), named
    overrides: tuple[tuple[int, int | None, bool], ...]  # (agent position, verdict column, named)


@cache
def _agents() -> tuple[dict[str, int], tuple[bool, ...], tuple[str, ...]]:
    """Listed agents: position by name, whether each is a training agent, the row start of each."""
    agents = listed_agents().astype("str")
    names, purposes = agents["agent"].tolist(), agents["purpose"].tolist()
    starts = tuple(f",{text_cell(name)},{text_cell(purpose)}," for name, purpose in zip(names, purposes, strict=True))
    return {name: i for i, name in enumerate(names)}, tuple(p == "training" for p in purposes), starts


@cache
def _training_count() -> int:
    return sum(_agents()[1])


def agent_count() -> int:
    """How many agents the bundled list has (166)."""
    return len(_agents()[1])


def _values(result: AgentResult | None) -> _Values:
    if result is None:
        return ("unknown", None, None, None, None)
    verdict = "unknown" if result.verdict is None else result.verdict
    return (verdict, result.named, result.via, result.rule, result.line)


def _decoded(key: Key) -> tuple[AgentResult | None, list[AgentResult]]:
    """The key's results; raises :class:`Irregular` for JSON outside the schema."""
    other, entries = key
    try:
        return (decode_result(other) if other else None), (decode_results(entries) if entries else None) or []
    except (msgspec.MsgspecError, ValueError):
        raise Irregular("agent results outside the schema") from None


def _resolve(key: Key) -> tuple[_Values, dict[int, _Values]]:
    """The shared values and the named overrides by agent position (the last entry wins)."""
    position = _agents()[0]
    other, entries = _decoded(key)
    overrides = {i: _values(entry) for entry in entries if (i := position.get(entry.agent or "")) is not None}
    return _values(other), overrides


def _check_results(key: Key) -> None:
    """Raise :class:`Irregular` for results outside the schema, or with a ``line`` that pandas might
    pass through float64 inexactly."""
    other, entries = _decoded(key)
    for result in (other, *entries):
        if result is not None and result.line is not None and not -EXACT_INT <= result.line <= EXACT_INT:
            raise Irregular(f"line {result.line}")


def _row_end(values: _Values) -> str:
    verdict, named, via, rule, line = values
    return (f"{text_cell(verdict)},{_BOOL[named]},{'' if via is None else text_cell(via)},"
            f"{'' if rule is None else text_cell(rule)},{'' if line is None else line}\n")  # fmt: skip


_shared: dict[bytes, list[bytes]] = {}  # other_agents text -> every agent's row with the shared values
_pieces: dict[Key, list[bytes]] = {}


def agent_text(key: Key) -> list[bytes]:
    """The site's domain_agents.csv rows, to join with its domain cell (see the module docstring).

    Keys share the row objects of their ``other_agents`` text; a key holds only its named rows.
    """
    pieces = _pieces.get(key)
    if pieces is None:
        if len(_pieces) >= _CACHE_LIMIT:
            _pieces.clear()
            _shared.clear()
        base, overrides = _resolve(key)
        starts = _agents()[2]
        shared = _shared.get(key[0])
        if shared is None:
            end = _row_end(base)
            shared = _shared[key[0]] = [b"", *((start + end).encode("utf-8") for start in starts)]
        pieces = _pieces[key] = shared.copy()
        for i, values in overrides.items():
            pieces[i + 1] = (starts[i] + _row_end(values)).encode("utf-8")
    return pieces


_counts: dict[Key, SiteCounts] = {}


def site_counts(key: Key) -> SiteCounts:
    """The site's agent counts (see :class:`SiteCounts`); raises :class:`Irregular` (see :func:`_check_results`)."""
    counts = _counts.get(key)
    if counts is None:
        _check_results(key)
        if len(_counts) >= _CACHE_LIMIT:
            _counts.clear()
        counts = _counts[key] = _count(key)
    return counts


def _count(key: Key) -> SiteCounts:
    training = _agents()[1]
    base, overrides = _resolve(key)
    shared = len(training) - len(overrides)  # agents with the shared values
    verdicts = [values[0] for values in overrides.values()]
    known = (shared > 0 and base[0] != "unknown") or any(verdict != "unknown" for verdict in verdicts)
    if not known:
        training_full = named = ""
    else:
        shared_training = _training_count() - sum(training[i] for i in overrides)
        full = shared_training * (base[0] == "full")
        full += sum(training[i] and values[0] == "full" for i, values in overrides.items())
        named_count = shared * (base[1] is True) + sum(values[1] is True for values in overrides.values())
        training_full, named = str(full), str(named_count)
    return SiteCounts(
        training_full,
        named,
        (_VERDICT_COLUMN.get(base[0]), base[1] is True),
        tuple((i, _VERDICT_COLUMN.get(values[0]), values[1] is True) for i, values in overrides.items()),
    )
