"""report.html rendered by a real headless Chromium (Debian's ``chromium``), driven over the DevTools protocol.

The demo web is crawled once; its report must show summary.csv's figures, draw its charts, narrow
its table under the filter, fetch nothing and log no error. A second crawl of sites whose every
field holds markup and ``javascript:`` URLs (issue 16) must show that markup as text and run none of it.
"""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import pytest
from crawling import crawl, optout_audit

from optout_audit.report import build_reports
from optout_audit.report.html import TABLE_LIMIT, write_html_report
from optout_audit.webfarm import Resource, Site, running_farm
from optout_audit.webfarm.pages import home_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# No skip: `make test` installs Debian's chromium (Makefile, target debian-packages); without it these fail.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1280,2000",
]


class Page:
    """One Chromium page over CDP: every request it sends and every error it logs are kept."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.next_id, self.events = ws, 0, []

    async def send(self, method: str, **params):
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self.ws.receive_json(), 30)
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message.get("result", {})
            self.events.append(message)

    async def wait_for(self, method: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while not any(event.get("method") == method for event in self.events):
            self.events.append(await asyncio.wait_for(self.ws.receive_json(), max(0.1, deadline - time.monotonic())))

    async def eval(self, expression: str):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def errors(self) -> list[dict]:
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown" or (
                method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert")
            ):
                found.append(params)
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(params["entry"])
        return found


async def _open(path: Path, check) -> None:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    browser = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.is_file() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as answer:
                target = next(t for t in await answer.json() if t["type"] == "page")
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                for domain in ("Page", "Runtime", "Network", "Log"):
                    await page.send(f"{domain}.enable")
                await page.send("Page.navigate", url=path.resolve().as_uri())
                await page.wait_for("Page.loadEventFired")
                await check(page)
    finally:
        browser.terminate()
        browser.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


def in_chromium(path: Path, check) -> None:
    asyncio.run(_open(path, check))


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- the demo ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("demo") / "run"
    completed = optout_audit("demo", "--out", str(run_dir))
    assert completed.returncode == 0, completed.stderr[-2000:]
    return run_dir, run_dir / "report.html"  # the crawl wrote it


def test_demo_report_in_chromium(demo, tmp_path):
    run_dir, page_path = demo
    summary = {row["metric"]: row["value"] for row in _rows(run_dir / "summary.csv")}
    signals = [row for row in _rows(run_dir / "signals.csv")]
    domains = _rows(run_dir / "domains.csv")
    unknown = sum(row["reserves_ai_training"] == "unknown" for row in domains)
    shot = tmp_path / "demo.png"

    async def check(page: Page):
        # the figures of summary.csv
        for metric in ("ok", "unreachable", "timeout", "error", "invalid_input"):
            assert (
                await page.eval(f"document.querySelector('#run [data-metric={metric}]').textContent") == summary[metric]
            )
        share = await page.eval("document.querySelector('#headline td[data-metric=reserves_yes]').textContent")
        assert share == f"{100 * int(summary['reserves_yes']) / int(summary['ok']):.1f}%"
        assert summary["share_reserving"] in await page.eval("document.querySelector('p[data-metric]').textContent")
        # the charts are drawn: one bar per signal, with a width; the agent bars stacked
        bars = await page.eval(
            "Array.from(document.querySelectorAll('#chart-signals rect')).map(r => r.getBoundingClientRect().width)"
        )
        assert len(bars) == len(signals) and max(bars) > 50
        widths = await page.eval(
            "Array.from(document.querySelectorAll('#chart-agents g.bar')).map(g => g.getBoundingClientRect().width)"
        )
        assert len(widths) == 20 and min(widths) > 300
        assert await page.eval("document.querySelectorAll('#chart-purpose g.bar').length") == 4
        # the table, then the filter narrows it
        visible = "document.querySelectorAll('#domain-table tbody tr:not([hidden])').length"
        assert await page.eval(visible) == len(domains)
        await page.eval(
            "var f=document.getElementById('filter');f.value='gptbot-blocker';f.dispatchEvent(new Event('input'))"
        )
        assert await page.eval(visible) == 1
        assert await page.eval("document.getElementById('row-count').textContent") == "1"
        await page.eval(
            "var f=document.getElementById('filter');f.value='';f.dispatchEvent(new Event('input'));"
            "var s=document.getElementById('reserves');s.value='unknown';"
            "s.dispatchEvent(new Event('change'))"
        )
        assert await page.eval(visible) == unknown
        # sorting by domain puts the rows in order
        await page.eval("document.querySelector('#domain-table th[data-col=\"0\"]').click()")
        names = await page.eval(
            "Array.from(document.querySelectorAll('#domain-table tbody tr:not([hidden]) summary'))"
            ".map(s => s.textContent)"
        )
        assert names == sorted(names, key=str.lower) or names == sorted(names)
        # the reasons of one domain: the deciding line
        reasons = await page.eval(
            "Array.from(document.querySelectorAll('#domain-table details'))"
            ".find(d => d.querySelector('summary').textContent === 'gptbot-blocker.example')"
            ".textContent"
        )
        assert "GPTBot: full, named, line" in reasons and "Disallow: /" in reasons
        shot.write_bytes(
            __import__("base64").b64decode((await page.send("Page.captureScreenshot", format="png"))["data"])
        )
        assert page.requests() == [page_path.resolve().as_uri()], page.requests()
        assert page.errors() == []

    in_chromium(page_path, check)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_report_says_what_it_leaves_out(tmp_path):
    from optout_audit.report import build_reports
    from optout_audit.report.synthetic import write_synthetic_audit

    write_synthetic_audit(tmp_path / "audit.jsonl", TABLE_LIMIT + 50)
    build_reports(tmp_path)
    text = write_html_report(tmp_path).read_text("utf-8")
    assert text.count("<details>") == TABLE_LIMIT
    assert f"first {TABLE_LIMIT:,} of {TABLE_LIMIT + 50:,} domains" in text and "domains.csv" in text


def test_trends_from_the_runs_beside(tmp_path):
    from optout_audit.report import build_reports
    from optout_audit.report.synthetic import write_synthetic_audit

    for number, seed in enumerate((1, 2, 3)):
        run = tmp_path / f"run{number}"
        run.mkdir()
        write_synthetic_audit(run / "audit.jsonl", 200, seed=seed)
        build_reports(run)
        (run / "run.json").write_text(json.dumps({"started_at": f"2026-0{number + 1}-01T00:00:00Z"}))
    text = write_html_report(tmp_path / "run2").read_text("utf-8")
    assert 'id="chart-trends"' in text and text.count("<polyline") == 4 and text.count("<circle") == 12
    single = tmp_path / "alone" / "run"
    single.mkdir(parents=True)
    write_synthetic_audit(single / "audit.jsonl", 20)
    build_reports(single)
    assert 'id="no-trends"' in write_html_report(single).read_text("utf-8")


# -- hostile sites (issue 16) ------------------------------------------------------------------

PAYLOADS = {  # where -> what the site serves there; each would set window.__pwned if it ran
    "robots rule": "/<script>window.__pwned='robots rule'</script>",
    "robots agent": 'GPT-Bot/"><img src=x onerror="window.__pwned=\'robots agent\'">',
    "content signal": "ai-train=no, <script>window.__pwned='content signal'</script>",
    "x-robots-tag": "noai, <script>window.__pwned='x-robots-tag'</script>",
    "tdm header": '1"><img src=x onerror="window.__pwned=\'tdm header\'">',
    "tdm policy": "javascript:window.__pwned='tdm policy'",
    "meta": 'noai "><img src=x onerror="window.__pwned=\'meta\'">',
    "tdmrep location": "/<script>window.__pwned='tdmrep location'</script>",
    "tdmrep policy": "javascript:window.__pwned='tdmrep policy'",
    "ai.txt": '/"><img src=x onerror="window.__pwned=\'ai.txt\'">',
    "licence": "javascript:window.__pwned='licence'",
    "input": '"><img src=x onerror="window.__pwned=\'input\'">',
}


def _hostile_site() -> Site:
    robots = (
        f"User-agent: {PAYLOADS['robots agent']}\nDisallow: /\n\n"
        f"User-agent: CCBot\nDisallow: {PAYLOADS['robots rule']}\n\n"
        f"User-agent: *\nContent-Signal: {PAYLOADS['content signal']}\nAllow: /\n"
        f"License: {PAYLOADS['licence']}\n"
    )
    meta = PAYLOADS["meta"].replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    home_headers = [
        ("X-Robots-Tag", PAYLOADS["x-robots-tag"]),
        ("tdm-reservation", PAYLOADS["tdm header"]),
        ("tdm-policy", PAYLOADS["tdm policy"]),
        ("Link", f'<{PAYLOADS["licence"]}>; rel="license"'),
    ]
    home = home_page("hostile.test", "hostile", head_extra=f'<meta name="robots" content="{meta}">')
    tdmrep = [{"location": PAYLOADS["tdmrep location"], "tdm-reservation": 1, "tdm-policy": PAYLOADS["tdmrep policy"]}]
    return Site(
        "hostile.test",
        {
            "/robots.txt": Resource.text(robots),
            "/": Resource.html(home, headers=home_headers),
            "/.well-known/tdmrep.json": Resource.json(tdmrep),
            "/ai.txt": Resource.text(f"User-Agent: *\nDisallow: {PAYLOADS['ai.txt']}\n"),
        },
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    with running_farm([_hostile_site()]) as farm:
        run = crawl(farm, ["hostile.test", PAYLOADS["input"]], tmp_path_factory.mktemp("hostile") / "run")
    return run, run.run_dir / "report.html"


def test_every_payload_reaches_the_page(hostile):
    run, page_path = hostile
    text = page_path.read_text("utf-8")
    for where, payload in PAYLOADS.items():
        assert payload not in text, f"{where} is in the page unescaped"
    record = run.records["hostile.test"]
    assert record["conflicts"], "the misspelt agent line gives a conflict whose detail holds the payload"


def test_hostile_fields_show_as_text_and_nothing_runs(hostile):
    _, page_path = hostile

    async def check(page: Page):
        await page.eval("document.querySelectorAll('details').forEach(d => d.open = true)")
        await page.wait_for("Page.frameStoppedLoading")
        assert await page.eval("typeof window.__pwned") == "undefined"
        assert await page.eval("document.querySelectorAll('img, iframe, object, embed, a[href]').length") == 0
        assert await page.eval("document.scripts.length") == 1
        assert (
            await page.eval(
                "Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes)"
                ".some(a => a.name.startsWith('on'))).length"
            )
            == 0
        )
        shown = await page.eval("document.body.innerText")
        for where, payload in PAYLOADS.items():
            if where != "input":  # the invalid input line is shown as domains.csv writes it
                assert payload in shown, f"{where} not shown as text"
        assert PAYLOADS["input"] in shown
        assert page.requests() == [page_path.resolve().as_uri()], page.requests()
        assert page.errors() == []

    in_chromium(page_path, check)


def test_conflict_cells_keep_formula_neutralising(tmp_path):
    record = {
        "domain": "f.test",
        "conflicts": [
            {
                "kind": "silent_miss",
                "severity": "error",
                "agent": "=cmd|'/c calc'!A1",
                "signal": "",
                "detail": "+SUM(1)",
                "line": 2,
            }
        ],
    }
    (tmp_path / "audit.jsonl").write_text(json.dumps(record) + "\n", "utf-8")
    (row,) = _rows(build_reports(tmp_path)["conflicts.csv"])
    assert row["agent"] == "'=cmd|'/c calc'!A1" and row["detail"] == "'+SUM(1)" and row["line"] == "2"
