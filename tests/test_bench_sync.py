"""``lsavto bench sync`` at toy sizes: every figure is there, numeric, with its unit in its key.

No timing is asserted here: the bench reports speed, the test only checks its report.
"""

from __future__ import annotations

import json
import math
from typing import Any

from bench import sync as bench_sync

UNITS = ("_ms", "_s", "_ops_per_s", "_pct", "_x", "_mb", "_kb")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_bench_sync_reports_every_figure_with_its_unit() -> None:
    result = bench_sync.run(
        rows=500, nodes=3, writes=5, backlog=1000, bootstrap_rows=2000, rss_nodes=4
    )
    json.dumps(result)  # what `lsavto bench sync --json` prints
    assert result["bench"] == "sync"
    assert set(bench_sync.SECTIONS) <= set(result)
    for section, key in bench_sync.FIGURES:
        assert key.endswith(UNITS), key
        assert _number(result[section][key]), (section, key, result[section][key])
    for section in bench_sync.SECTIONS:
        figures = result[section]
        assert isinstance(figures["goal_met"], bool), section
        assert any(k.startswith("goal_") and k != "goal_met" for k in figures), section
        for key, value in figures.items():
            if _number(value) and key.startswith("goal_"):
                assert key.endswith(("_max", "_min")), key
    assert isinstance(result["goal_met"], bool)
    assert result["propagation"]["nodes"] == 3
    assert result["hub_rss"]["nodes"] == 4
    assert result["catch_up"]["backlog_ops"] == 1000
    assert result["bootstrap"]["rows"] == 2000
    assert result["bootstrap"]["path"] == "snapshot"
