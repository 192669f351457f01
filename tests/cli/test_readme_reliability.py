"""The README's reliability table names a test for every probe: each named test must exist."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Reliability"


def reliability_rows() -> list[list[str]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    rows = [line for line in text[start:end].splitlines() if line.startswith("| ") and "---" not in line]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]  # without the header


def test_every_probe_names_tests_that_exist() -> None:
    rows = reliability_rows()
    assert len(rows) >= 20
    for probe, result, checked_by in rows:
        assert result in ("held", "failed, fixed"), (probe, result)
        refs = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", checked_by)
        assert refs, f"no test named for: {probe}"
        for path, name in refs:
            source = (REPO / path).read_text(encoding="utf-8")
            assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{path}::{name} is gone ({probe})"


def test_the_review_figures_match_the_table() -> None:
    # The opening sentence gives the review's figures; its rows are those not marked "later".
    text = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(r"tried (\d+) hostile-but-fair probes; (\d+) held and (\d+) failed", text)
    assert m, "the reliability section lost its figures"
    tried, held, failed = map(int, m.groups())
    assert held + failed == tried
    review = [r for r in reliability_rows() if not r[0].startswith("later:")]
    # The review's 14 failures are 13 rows (its two stray tracebacks share one); its 13 held probes, 8 groups.
    assert sum(r[1] == "failed, fixed" for r in review) == failed - 1
    assert sum(r[1] == "held" for r in review) == 8
