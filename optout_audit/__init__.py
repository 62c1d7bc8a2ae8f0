"""optout-audit: crawl lists of websites and report how they reserve their rights against AI training."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/optout-audit/optout-audit"
USER_AGENT = f"optout-audit/{__version__} (+{PROJECT_URL})"
#: The product token other sites' robots.txt files name us by.
PRODUCT_TOKEN = "optout-audit"


def __getattr__(name: str):  # load_run on first use: importing the package stays free of pandas
    if name == "load_run":
        from optout_audit.report.load import load_run

        return load_run
    raise AttributeError(f"module 'optout_audit' has no attribute {name!r}")
