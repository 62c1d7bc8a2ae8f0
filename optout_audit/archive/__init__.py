"""The evidence archive: WARC files of what each site served, evidence.csv, the manifest, verify, filter.

from optout_audit.archive import open_run
run = open_run("reports/20261201T100000Z")
run.allowed("https://example.com/a/page.html", "GPTBot")   # Permission("false", "robots.txt", ...)
"""

from optout_audit.archive.finish import write_manifest


def open_run(run_dir):
    """A finished run folder, for per-URL questions (see :mod:`optout_audit.archive.permissions`)."""
    from optout_audit.archive.permissions import open_run as _open_run

    return _open_run(run_dir)


__all__ = ["open_run", "write_manifest"]
