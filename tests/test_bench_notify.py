"""``lsavto bench notify`` at toy sizes: every figure is there, numeric, with its unit in its key.

No timing is asserted: the bench reports speed, the test only checks its report.
"""

from __future__ import annotations

import json
import math

from bench import notify as bench_notify


def test_bench_notify_reports_its_figures() -> None:
    result = bench_notify.run(reminders=200, smtp_messages=5)
    json.dumps(result)  # what `lsavto bench notify --json` prints
    assert result["bench"] == "notify"
    for key in ("render_queue_10k_s", "smtp_messages_per_s"):
        value = result[key]
        assert isinstance(value, float) and math.isfinite(value), key
    assert result["render_queue"]["queued"] == 200
    assert result["render_queue"]["next_tick_queued"] == 0  # idempotent
    assert result["smtp"]["sent"] == result["smtp"]["received"] == 5
    assert isinstance(result["goal_met"], bool)
