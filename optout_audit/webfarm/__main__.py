"""``python -m optout_audit.webfarm``: run a farm in the foreground, or print the demo's inputs.

::

    python -m optout_audit.webfarm serve --sites demo --hosts-out /tmp/farm.hosts
    python -m optout_audit.webfarm serve --sites synthetic:3000:1 --latency 50,150 --workers 2
    python -m optout_audit.webfarm serve --sites my-sites.json --ready-file /tmp/ready.json
    python -m optout_audit.webfarm demo-input > demo-urls.txt

``serve`` runs until SIGTERM or SIGINT (Ctrl-C). It binds ports 80 and 443 (root, or
``CAP_NET_BIND_SERVICE``; or pass other ports) on a random 127.x.y.z address unless ``--address``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from optout_audit.webfarm.service import ServeOptions, main_serve
from optout_audit.webfarm.spec import load_web


def _latency(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    try:
        bounds = (float(low), float(high or low))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected MIN_MS,MAX_MS, e.g. 50,150") from exc
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError("expected 0 <= MIN_MS <= MAX_MS")
    return bounds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m optout_audit.webfarm", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a web of made-up hosts until SIGTERM/SIGINT")
    serve.add_argument("--sites", required=True, help="FILE.json, 'demo' or 'synthetic:COUNT[:SEED]'")
    serve.add_argument("--hosts-out", type=Path, help="where to write the hosts file (default: in --workdir)")
    serve.add_argument("--ready-file", type=Path, help="written (JSON: address, ports, files) once serving")
    serve.add_argument("--request-log", type=Path, help="append one JSON line per request received")
    serve.add_argument("--latency", type=_latency, help="MIN_MS,MAX_MS added to every response")
    serve.add_argument("--address", help="the shared loopback address (default: a random free one)")
    serve.add_argument("--http-port", type=int, default=80)
    serve.add_argument("--https-port", type=int, default=443)
    serve.add_argument("--workers", type=int, default=1, help="processes accepting on the same sockets")
    serve.add_argument(
        "--workdir", type=Path, help="for the certificate and default hosts file (default: a new temp dir)"
    )
    serve.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    commands.add_parser("demo-input", help="print the demo's input URL list")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo-input":
        from optout_audit.webfarm.demo import demo_input_lines

        print("\n".join(demo_input_lines()))
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="webfarm-"))
    workdir.mkdir(parents=True, exist_ok=True)
    options = ServeOptions(
        workdir=workdir,
        hosts_out=args.hosts_out,
        ready_file=args.ready_file,
        request_log=args.request_log,
        latency=args.latency,
        address=args.address,
        http_port=args.http_port,
        https_port=args.https_port,
        workers=max(1, args.workers),
        parent_pid=args.parent_pid,
    )
    return main_serve(load_web(args.sites), options)


if __name__ == "__main__":
    sys.exit(main())
