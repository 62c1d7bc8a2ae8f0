"""On a terminal the crawl shows a progress bar; elsewhere it logs progress lines."""

from __future__ import annotations

import os
import pty
import subprocess

from crawling import BIN, optout_audit

from optout_audit.webfarm import Resource, Site, running_farm

SITES = [Site(f"p{n}.test", {"/robots.txt": Resource.text("User-agent: *\nAllow: /\n")}) for n in range(3)]


def test_progress_bar_on_a_terminal(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("".join(f"p{n}.test\n" for n in range(3)))
    with running_farm(SITES) as farm:
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [
                str(BIN / "optout-audit"),
                "crawl",
                str(path),
                "--out",
                str(tmp_path / "run"),
                "--hosts-file",
                str(farm.hosts_file),
                "--log-level",
                "ERROR",
            ],
            stdout=follower,
            stderr=follower,
            stdin=subprocess.DEVNULL,
        )
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=120) == 0
    text = output.decode("utf-8", "replace")
    assert "3/3" in text and "site/s" in text, text[-2000:]


def test_log_lines_elsewhere(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("p0.test\n")
    with running_farm(SITES) as farm:
        completed = optout_audit(
            "crawl", str(path), "--out", str(tmp_path / "run"), "--hosts-file", str(farm.hosts_file)
        )
    assert completed.returncode == 0
    assert "progress: 1/1 sites" in completed.stderr
