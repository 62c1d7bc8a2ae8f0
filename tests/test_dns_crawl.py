"""``optout-audit crawl --dns-server``: the real resolver path of a crawl, on the local web and its DNS server.

One farm, one DNS server on loopback answering for the farm's names plus a name per DNS failure;
one crawl (under strace where it is installed) audits them all. Each DNS failure must give its own
row, and every packet the crawl sends must go to loopback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from crawling import BIN, read_run

from optout_audit.webfarm import Resource, Site, running_farm
from optout_audit.webfarm.dns import Zone, running_dns

ROBOTS = "User-agent: GPTBot\nDisallow: /\n"
HEALTHY = ("fine.test", "alias.test", "dual.test")
FAULTY = {
    "nowhere.test": "dns_nxdomain",
    "nodata.test": "dns_nodata",
    "servfail.test": "dns_servfail",
    "refused.test": "dns_servfail",
    "silent.test": "dns_timeout",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    # alias.test is a CNAME to target.test in DNS; the server behind it answers for both names, as a CDN does
    sites = [Site(host, {"/robots.txt": Resource.text(ROBOTS)}) for host in ("fine.test", "dual.test", "alias.test")]
    with running_farm(sites) as farm:
        records = {
            "alias.test": {"cname": "target.test"},
            "target.test": {"a": [farm.address]},
            "dual.test": {"a": [farm.address], "aaaa": ["::1"]},  # nothing listens on [::1]:443
            "nodata.test": {"fault": "nodata"},
            "servfail.test": {"fault": "servfail"},
            "refused.test": {"fault": "refused"},
            "silent.test": {"fault": "timeout"},
        }
        with running_dns(Zone(hosts_file=str(farm.hosts_file), records=records)) as dns:
            directory = tmp_path_factory.mktemp("dns-crawl")
            input_path = directory / "input.txt"
            input_path.write_text("\n".join(f"https://{h}/" for h in [*HEALTHY, *FAULTY]) + "\n", "utf-8")
            run_dir = directory / "run"
            argv = [
                "crawl",
                str(input_path),
                "--out",
                str(run_dir),
                "--dns-server",
                dns.server,
                "--allow-private-networks",
                "--timeout",
                "5",
            ]
            trace = directory / "crawl.strace"
            strace = shutil.which("strace")
            prefix = (
                [strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,openat", "-o", str(trace)] if strace else []
            )
            completed = subprocess.run(
                [*prefix, str(BIN / "optout-audit"), *argv],
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            assert completed.returncode == 0, completed.stderr[-3000:]
            result = read_run(run_dir, completed)
            result.queries = dns.queries()
            result.dns_server = dns
            result.farm_log = farm.request_log()
            result.trace = trace.read_text("utf-8", "replace") if strace else None
            yield result


def test_names_resolve_through_the_dns_server(run):
    for host in HEALTHY:
        assert run.domains[host]["status"] == "ok", run.domains[host]
        assert run.records[host]["robots"]["http_status"] == 200
    asked = {(q["name"], q["type"]) for q in run.queries}
    assert {(h, "A") for h in [*HEALTHY, *FAULTY]} <= asked
    assert ("fine.test", "GET", "/robots.txt", "https") in run.farm_log
    # the CNAME's target answered for alias.test: the farm saw the alias as the Host
    assert ("alias.test", "GET", "/robots.txt", "https") in run.farm_log


@pytest.mark.parametrize("host", sorted(FAULTY))
def test_each_dns_failure_has_its_own_fault(run, host):
    row, record = run.domains[host], run.records[host]
    assert (row["status"], row["fault"]) == ("unreachable", FAULTY[host])
    assert record["robots"]["fault"] == FAULTY[host]
    assert record["robots"]["status"] == "unreachable"
    assert row["reserves_ai_training"] == "unknown"
    # the site is given up after its robots.txt: no other document was asked for
    assert record["home"]["status"] == "skipped"


def test_a_site_whose_ipv6_address_refuses_is_fetched_over_ipv4(run):
    assert run.domains["dual.test"]["status"] == "ok"
    assert ("dual.test", "GET", "/robots.txt", "https") in run.farm_log


def test_run_json_records_the_dns_servers(run):
    import json

    settings = json.loads((run.run_dir / "run.json").read_text("utf-8"))["settings"]
    assert settings["dns_servers"] == [run.dns_server.server]
    assert settings["allow_private_networks"] is True


def test_no_packet_leaves_loopback_and_resolv_conf_is_not_read(run):
    if run.trace is None:
        pytest.skip("strace is not installed (Debian package strace)")
    sent = [line for line in run.trace.splitlines() if re.search(r"\b(connect|sendto|sendmsg)\(", line)]
    inet = [line for line in sent if "AF_INET" in line]
    assert inet, "strace saw no connection at all"
    outside = [line for line in inet if not re.search(r'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"', line)]
    assert outside == []
    dns_port = f"htons({run.dns_server.port})"
    assert any(dns_port in line for line in inet), "no datagram to the local DNS server"
    assert not [line for line in run.trace.splitlines() if "/etc/resolv.conf" in line and "openat(" in line]
