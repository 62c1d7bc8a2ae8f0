"""robots.txt decisions for many URLs of one agent, fast: the rules that can match a path found by prefix.

:meth:`optout_audit.detect.robots.RobotsTxt.decide` tries every rule of the agent's groups on
each path (a news site's group has hundreds). A rule can only match a path that starts with its
literal head (the pattern up to its first ``*`` or ``$``; for Google's ``Allow: /dir/index.html``
extension, the directory's head), so :class:`AgentRules` indexes the rules by that head and, per
path, looks up each of the few distinct head lengths: the rules found are then decided exactly as
``decide`` does (same priorities, same order, same tie-break), and the result is the same
(tests/test_filter.py checks it against ``decide`` on the robots.txt corpus).

The same object holds the agent's robots.txt extension lines that filter reads per URL,
parsed once: Content-Usage (with their paths), Content-Signal, DisallowAITraining.
"""

from __future__ import annotations

from optout_audit.detect.preferences import parse_content_signal, parse_robots_content_usage
from optout_audit.detect.robots import RobotsTxt, Rule, escape_pattern, pattern_matches

__all__ = ["UNNAMED", "AgentRules"]

#: The agent no group names (a purpose asked without an agent): it gets the ``*`` group.
UNNAMED = "\0unnamed"


def _head(pattern: bytes) -> bytes:
    cut = len(pattern)
    for mark in (b"*", b"$"):
        found = pattern.find(mark)
        if 0 <= found < cut:
            cut = found
    return pattern[:cut]


def _index_head(rule: Rule) -> bytes:
    head = _head(rule.pattern)
    if rule.allow:
        slash = rule.pattern.rfind(b"/")
        if slash >= 0 and rule.pattern[slash:].startswith(b"/index.htm"):
            head = min(head, _head(rule.pattern[: slash + 1]), key=len)
    return head


class AgentRules:
    """One robots.txt (or ai.txt) as one agent reads it."""

    def __init__(self, robots: RobotsTxt, agent: str) -> None:
        name = "*" if agent == UNNAMED else agent
        groups, _via = robots.groups_for(name)
        rules = [rule for group in groups for rule in group.rules]
        self._by_head: dict[bytes, list[tuple[int, Rule]]] = {}
        for order, rule in enumerate(rules):
            self._by_head.setdefault(_index_head(rule), []).append((order, rule))
        self._lengths = sorted({len(head) for head in self._by_head})
        lines = lambda key: [line for group, line in robots.lines(key) if group is None] + robots.lines_for(name, key)  # noqa: E731
        self.content_usage = []  # (path or None, train_ai, line)
        for line in lines("content-usage"):
            where, usage = parse_robots_content_usage(line.value)
            if usage.valid and usage.train_ai is not None:
                self.content_usage.append((where, usage.train_ai, line))
        self.content_signal_no = next(
            (line for line in lines("content-signal") if parse_content_signal(line.value).ai_train == "no"), None
        )
        self.disallow_ai_training = [
            (line.value.strip(), line) for line in lines("disallowaitraining") if line.value.strip()
        ]

    def disallowed_by(self, path: bytes) -> Rule | None:
        """The deciding Disallow rule when the agent may not fetch ``path``, else None (RobotsTxt.decide's answer)."""
        found: list[tuple[int, Rule]] = []
        by_head = self._by_head
        for length in self._lengths:
            if length > len(path):
                break
            candidates = by_head.get(path[:length])
            if candidates:
                found += candidates
        if not found:
            return None
        found.sort(key=lambda item: item[0])
        best_allow, best_disallow = -1, -1
        deciding = None
        for _order, rule in found:
            priority = rule.priority(path)
            if rule.allow:
                if priority > best_allow:
                    best_allow = priority
            elif priority > best_disallow:
                best_disallow, deciding = priority, rule
        return deciding if best_disallow > best_allow else None

    def content_usage_no(self, path: bytes):
        """The Content-Usage line (longest matching path) when it says ``train-ai=n`` for ``path``."""
        best = None
        for where, train_ai, line in self.content_usage:
            if where is None or pattern_matches(escape_pattern(where.encode("utf-8", "replace")), path):
                length = len(where or "")
                if best is None or length >= best[0]:
                    best = (length, train_ai, line)
        return best[2] if best is not None and best[1] == "n" else None

    def disallow_ai_training_for(self, path: bytes):
        return next(
            (
                line
                for value, line in self.disallow_ai_training
                if pattern_matches(escape_pattern(value.encode("utf-8", "replace")), path)
            ),
            None,
        )
