"""Pattern coverage (detect/patterns.py) and TDMRep first-match "partial" (issue 17 class 1).

Coverage is checked against brute force: every path up to a length over an alphabet holding the
patterns' letters and one they never use (the witness letter a counterexample may need).
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_audit.detect.patterns import covers, covers_every_path, reserved_extent, uncovered_path
from optout_audit.detect.robots import pattern_matches
from optout_audit.detect.tdmrep import parse_tdmrep, tdmrep_reserved_path, tdmrep_reserves_somewhere

PATH_ALPHABET = b"/ab$q"  # patterns below use "/ab$*"; "q" is the letter they never contain
MAX_PATH = 6
PATHS = [b"/" + bytes(rest) for n in range(MAX_PATH) for rest in itertools.product(PATH_ALPHABET, repeat=n)]

patterns = st.builds(
    lambda body, anchored: body + (b"$" if anchored else b""),
    st.binary(max_size=0) | st.lists(st.sampled_from([b"/", b"a", b"b", b"*", b"$"]), max_size=4).map(b"".join),
    st.booleans(),
).filter(bool)


def brute_covers(earlier: bytes, pattern: bytes) -> bool:
    return all(pattern_matches(earlier, path) for path in PATHS if pattern_matches(pattern, path))


@pytest.mark.parametrize(
    ("earlier", "pattern", "expected"),
    [
        (b"/", b"/images/*.png", True),
        (b"/*", b"/", True),
        (b"*", b"/anything", True),
        (b"/images/", b"/images/*.png$", True),
        (b"/images/", b"/images", False),  # "/images" also matches "/imagesX"
        (b"/*.png", b"/images/*.png", True),
        (b"/*.png$", b"/images/*.png", False),  # "/images/a.png?x" is not anchored
        (b"/*.png$", b"/images/*.png$", True),
        (b"/a$", b"/a", False),
        (b"/a", b"/a$", True),
        (b"/a*b", b"/a*c*b", True),
        (b"/a*c*b", b"/a*b", False),
        (b"*.pdf", b"/docs/*.pdf", True),
        (b"/docs/", b"*.pdf", False),
        (b"/", b"*.pdf", True),  # every path starts with "/"
        (b"/x", b"x", True),  # "x" matches no path at all
    ],
)
def test_covers_examples(earlier, pattern, expected):
    assert covers(earlier, pattern) is expected
    witness = uncovered_path(pattern, [earlier])
    if expected:
        assert witness is None
    else:
        assert pattern_matches(pattern, witness) and not pattern_matches(earlier, witness), witness


@settings(max_examples=400, deadline=None)
@given(patterns, patterns)
def test_covers_agrees_with_brute_force(earlier, pattern):
    found = covers(earlier, pattern)
    if found:
        assert brute_covers(earlier, pattern)  # a counterexample up to MAX_PATH would disprove it
    else:
        witness = uncovered_path(pattern, [earlier])
        # The witness is a real counterexample, whatever its length.
        assert witness is not None and witness.startswith(b"/")
        assert pattern_matches(pattern, witness) and not pattern_matches(earlier, witness)


@settings(max_examples=300, deadline=None)
@given(st.lists(patterns, max_size=3), patterns)
def test_uncovered_path_against_union_of_earlier_patterns(earlier, pattern):
    witness = uncovered_path(pattern, earlier)
    counterexamples = [
        p for p in PATHS if pattern_matches(pattern, p) and not any(pattern_matches(e, p) for e in earlier)
    ]
    if witness is None:
        assert counterexamples == []
    else:
        assert pattern_matches(pattern, witness) and not any(pattern_matches(e, witness) for e in earlier)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (b"/", True),
        (b"/*", True),
        (b"*", True),
        (b"/*$", True),
        (b"**", True),
        (b"/$", False),
        (b"/a", False),
        (b"*.png", False),
        (b"/*/", False),
    ],
)
def test_covers_every_path(pattern, expected):
    assert covers_every_path(pattern) is expected


# -- TDMRep: the first matching rule decides ---------------------------------------------------------


def tdmrep(*rules: tuple[str, int]) -> bytes:
    return json.dumps([{"location": loc, "tdm-reservation": res} for loc, res in rules]).encode()


@pytest.mark.parametrize(
    ("rules", "partial"),
    [
        # a later reserving rule, fully shadowed by an earlier non-reserving one, reserves nothing
        ([("/", 0), ("/images/*", 1)], False),
        ([("/*", 0), ("/*.pdf$", 1)], False),
        ([("*", 0), ("/members/", 1)], False),
        ([("/images/", 0), ("/images/*.png", 1)], False),
        ([("/*.png", 0), ("/images/*.png", 1)], False),
        # ... but one shadowed only in part still reserves some paths
        ([("/*.png$", 0), ("/images/*.png", 1)], True),  # /images/a.png?size=2
        ([("/images", 0), ("/*", 1)], True),
        ([("/images/", 0), ("/imagesets/", 1)], True),
        ([("/*.pdf", 0), ("/docs/", 1)], True),
        ([("/docs/", 1), ("/", 0)], True),
        # invalid rules never shadow
        ([("/", "0"), ("/docs/", 1)], True),
        ([("/", 0)], False),
    ],
)
def test_tdmrep_partial_needs_a_path_whose_first_rule_reserves(rules, partial):
    file = parse_tdmrep(tdmrep(*rules))
    assert tdmrep_reserves_somewhere(file) is partial
    path = tdmrep_reserved_path(file)
    if partial:
        rule = file.match(path)
        assert rule is not None and rule.reservation == 1, path


locations = st.lists(st.sampled_from(["/", "a", "b", "*"]), min_size=1, max_size=4).map("".join)
rule_lists = st.lists(st.tuples(locations | locations.map(lambda s: s + "$"), st.sampled_from([0, 1])), max_size=4)


@settings(max_examples=300, deadline=None)
@given(rule_lists)
def test_tdmrep_reserved_path_agrees_with_brute_force(rules):
    file = parse_tdmrep(tdmrep(*rules))
    path = tdmrep_reserved_path(file)
    reserved = [p for p in PATHS if (rule := file.match(p.decode())) is not None and rule.reservation == 1]
    if path is None:
        assert reserved == []
    else:
        rule = file.match(path)
        assert rule is not None and rule.reservation == 1


# -- longest-match extent of path rules (Content-Usage, DisallowAITraining) --------------------------


def brute_reserved(rules, ties_reserve, path):
    matched = [(len(pattern), reserves) for pattern, reserves in rules if pattern_matches(pattern, path)]
    if not matched:
        return False
    best = max(length for length, _ in matched)
    kinds = {reserves for length, reserves in matched if length == best}
    return ties_reserve if len(kinds) == 2 else kinds.pop()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(patterns | st.just(b""), st.booleans()), max_size=4), st.booleans())
def test_reserved_extent_agrees_with_brute_force(rules, ties_reserve):
    reserved = [brute_reserved(rules, ties_reserve, path) for path in PATHS]
    expected = "all" if all(reserved) else "part" if any(reserved) else ""
    assert reserved_extent(rules, ties_reserve) == expected
