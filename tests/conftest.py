import sys
from pathlib import Path

# tests/crawling.py is a helper module shared by the crawl tests.
sys.path.insert(0, str(Path(__file__).parent))
