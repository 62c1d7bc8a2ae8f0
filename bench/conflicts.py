"""What finding conflicts costs per site, against parsing the same robots.txt: the real files of tests/fixtures/robots.

    python -m bench.conflicts [--rounds 5]

Prints, per file group and in all, the time of ``RobotsTxt.parse`` (the baseline, measured in the
same run), of what a crawl's record already does with it (``agent_results`` + ``robots_evidence``)
and of ``find_conflicts`` on top, as ratios to the baseline; ``conflicts`` is the last minus the
record, what finding conflicts adds. The three are timed one after the other in every round and
each keeps its best round, so a machine shared with other work moves them together.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from optout_audit.agents import ai_agents
from optout_audit.detect.conflicts import find_conflicts
from optout_audit.detect.robots import RobotsTxt
from optout_audit.detect.verdict import agent_results, robots_evidence

ROBOTS_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "robots"


def _best_times(bodies: list[bytes], works: list, rounds: int) -> list[float]:
    """Per work, its best time over ``rounds`` rounds; each round runs every work once, in turn."""
    best = [float("inf")] * len(works)
    for _ in range(rounds):
        for index, work in enumerate(works):
            start = time.perf_counter()
            for body in bodies:
                work(body)
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def _record(robots: RobotsTxt, agents) -> RobotsTxt:
    agent_results(robots, agents)
    robots_evidence(robots, agents)
    return robots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    agents = ai_agents()
    groups = {
        folder.name: [p.read_bytes() for p in sorted(folder.glob("*.txt"))]
        for folder in sorted(ROBOTS_DIR.iterdir())
        if folder.is_dir()
    }
    groups["all"] = [body for bodies in list(groups.values()) for body in bodies]
    print(f"{'files':<22} {'n':>4} {'parse ms/file':>14} {'+record':>10} {'+conflicts':>11} {'conflicts':>10}")
    for name, bodies in groups.items():
        parse, record, both = _best_times(
            bodies,
            [
                RobotsTxt.parse,
                lambda b: _record(RobotsTxt.parse(b), agents),
                lambda b: find_conflicts(_record(RobotsTxt.parse(b), agents), agents, robots_text=b),
            ],
            args.rounds,
        )
        print(
            f"{name:<22} {len(bodies):>4} {1000 * parse / len(bodies):>14.3f} {record / parse:>9.1f}x "
            f"{both / parse:>10.1f}x {(both - record) / parse:>9.1f}x"
        )


if __name__ == "__main__":
    main()
