"""detect/ is pure (README, issue 10 item 5): importing it and running its detectors loads no
Scrapy, Twisted, aiohttp, pandas or numpy, and opens no file but the code the import system loads.

Each check runs in a fresh interpreter, since this test session has long imported all of them.
An audit hook, installed before anything of the project is imported, records every ``open``
event; an open counts as code loading only when the import system itself makes it (the innermost
Python frame is importlib's frozen loader) for a module file (``.py``, ``.pyc``, extension).
The same hook must then see a real data read (the agent list being loaded by ``agents.py``):
otherwise the check would pass for a hook that sees nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

FORBIDDEN = ("scrapy", "twisted", "aiohttp", "pandas", "numpy")

PROBE = textwrap.dedent(
    r"""
    import importlib, importlib.machinery, json, pkgutil, sys

    CODE_SUFFIXES = tuple(importlib.machinery.all_suffixes())
    opened = []

    def hook(event, args):
        if event != "open":
            return
        path = args[0]
        caller = sys._getframe(1).f_code.co_filename
        by_importer = caller.startswith("<frozen importlib")
        if not (by_importer and isinstance(path, str) and path.endswith(CODE_SUFFIXES)):
            opened.append(repr(path))

    sys.addaudithook(hook)

    import optout_audit.detect as detect
    names = sorted(m.name for m in pkgutil.iter_modules(detect.__path__))
    for name in names:
        importlib.import_module("optout_audit.detect." + name)
    after_import = list(opened)

    from optout_audit.detect.aitxt import parse_aitxt
    from optout_audit.detect.headers import parse_headers
    from optout_audit.detect.html import crawler_names, parse_html_head
    from optout_audit.detect.robots import RobotsTxt
    from optout_audit.detect.tdmrep import parse_tdmrep
    from optout_audit.detect import verdict

    robots = RobotsTxt.parse(b"User-agent: GPTBot\nDisallow: /\nContent-Usage: train-ai=n\n")
    agents = [type("A", (), {"name": "GPTBot"})()]
    named, other = verdict.agent_results(robots, agents)
    verdict.domain_verdict(
        site_answered=True, robots_read=True, named_agents=named, other_agents=other,
        training_agents=frozenset({"GPTBot"}), evidence=verdict.robots_evidence(robots, agents),
        headers=parse_headers([("X-Robots-Tag", "noai")]),
        html=parse_html_head(b"<head><meta name=gptbot content=noai></head>", agent_names=crawler_names(agents)),
        tdmrep=parse_tdmrep(b'[{"location": "/", "tdm-reservation": 1}]'),
        aitxt=parse_aitxt(b"User-agent: *\nDisallow: /\n"),
        unread=verdict.unread_sources({"home": "ok", "tdmrep": "ok", "aitxt": "ok"}),
    )
    from optout_audit.detect.llmstxt import parse_llmstxt
    from optout_audit.detect.rsl import parse_rsl
    from optout_audit.detect.tdmpolicy import parse_tdm_policy
    from optout_audit.detect.trusttxt import parse_trusttxt
    parse_rsl(b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"/></rsl>')
    parse_tdm_policy(b'{"@type": "Offer"}')
    parse_trusttxt(b"datatrainingallowed=no\n")
    parse_llmstxt(b"# t\n- [a](/a)\n", "https://x.test/llms.txt")
    after_use = opened[len(after_import):]

    loaded = sorted({m.split(".")[0] for m in sys.modules})
    agents_loaded = "optout_audit.agents" in sys.modules
    del opened[:]
    import optout_audit.agents
    optout_audit.agents.ai_agents()  # the control: a real data read must be seen
    print(json.dumps({"modules": names, "after_import": after_import, "after_use": after_use,
                      "loaded": loaded, "agents_loaded": agents_loaded, "control": list(opened)}))
    """
)


def _probe() -> dict:
    completed = subprocess.run(
        [sys.executable, "-B", "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_importing_and_running_detect_loads_no_framework_and_opens_no_file() -> None:
    found = _probe()
    # Every detector module was imported, not just the package.
    assert {"robots", "html", "headers", "tdmrep", "aitxt", "preferences", "body", "verdict"} <= set(found["modules"])
    assert found["after_import"] == [], "files opened while importing detect/"
    assert found["after_use"] == [], "files opened while detecting"
    assert not set(FORBIDDEN) & set(found["loaded"])
    assert not found["agents_loaded"], "detect/ imported optout_audit.agents (the agent list is handed in)"
    # The hook does see data reads: loading the agent list opens the bundled JSON files.
    assert any("robots.json" in path for path in found["control"]), found["control"]


def test_the_frameworks_checked_for_are_installed() -> None:
    # A package that is not installed can never appear in sys.modules; the check above would be empty.
    probe = "import importlib.util, json; print(json.dumps([importlib.util.find_spec(n) is not None for n in %r]))"
    completed = subprocess.run(
        [sys.executable, "-c", probe % (FORBIDDEN,)], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(completed.stdout) == [True] * len(FORBIDDEN)
