import re
from pathlib import Path

from m2d import history

ROOT = Path(__file__).resolve().parent.parent


def test_timeline_page_table_matches_data():
    text = (ROOT / "book" / "timeline.md").read_text()
    rows = re.findall(r"^\| (\d{4}) \| .*\| (Part I+|Landscape) \|$", text, flags=re.M)
    assert [(int(y), c) for y, c in rows] == [(m.year, m.chapter) for m in history.TIMELINE]
    assert history.TIMELINE[0].year == 1906 and history.TIMELINE[-1].year == 2025
