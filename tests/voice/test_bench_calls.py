"""``lsavto bench calls`` runs briefly and reports its three figures (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LSAVTO = str(Path(sys.executable).with_name("lsavto"))


def test_bench_calls_reports_popup_relay_and_cpu() -> None:
    proc = subprocess.run(
        [LSAVTO, "bench", "calls", "--calls", "2", "--minutes", "0.1", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result) >= {"popup", "relay", "cpu", "machine"}
    assert {"p50_ms", "p95_ms", "samples", "goal_met"} <= set(result["popup"])
    assert {"added_delay_ms_median", "growth_ms", "goal_met"} <= set(result["relay"])
    assert {"per_call_pct_of_core", "goal_met"} <= set(result["cpu"])
    assert result["popup"]["samples"] > 0 and result["relay"]["frames_matched"] > 0
