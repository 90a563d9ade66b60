"""``lsavto bench search``: search latency per query kind on a demo base, against a LIKE scan.

Builds a demo dealership (``--clients`` clients, ~1.5 cars each) in a temporary data dir, draws
``repeat`` real queries of each kind from its rows, times the whole ``search()`` use case (look-up
plus loading each hit's cars and open documents), and times the same queries done as a plain
``LIKE '%…%'`` scan in the same run — the baseline the index has to beat.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from lsnode.crm.search import search
from lsnode.store.db import open_store
from lsnode.store.repos import SqliteClients

_TO_CYRILLIC = str.maketrans("ABEKMHOPCTYX", "АВЕКМНОРСТУХ")
_TO_LATIN = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")

GOAL_P95_MS = 5.0
GOAL_SPEEDUP_X = 20.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time(fn: Callable[[Any], Any], queries: list[Any]) -> tuple[list[float], list[int]]:
    ms: list[float] = []
    found: list[int] = []
    for q in queries:
        t0 = time.perf_counter()
        n = len(fn(q))
        ms.append((time.perf_counter() - t0) * 1000)
        found.append(n)
    return ms, found


def _phone_typed(e164: str, rng: random.Random) -> str:
    d = e164[2:]  # national number of a +7 phone
    return rng.choice(
        [
            f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
            f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}",
            f"8{d}",
            d,
        ]
    )


def _queries(db: Any, rng: random.Random, repeat: int) -> dict[str, list[tuple[str, str]]]:
    """Per kind: (what a person types, the LIKE pattern a scan would use) pairs."""

    def sample(sql: str) -> list[tuple[Any, ...]]:
        rows = db.execute(sql).fetchall()
        return [rng.choice(rows) for _ in range(repeat)]

    names = sample("SELECT surname, given_name FROM counterparties WHERE kind = 'person'")
    phones = sample("SELECT phone_e164 FROM contacts WHERE phone_e164 LIKE '+79%'")
    plates = sample("SELECT plate_key FROM cars WHERE plate_key != '' AND length(plate_key) >= 8")
    vins = sample("SELECT vin FROM cars WHERE vin != ''")
    out: dict[str, list[tuple[str, str]]] = {"name_prefix": [], "phone_full": []}
    for surname, given in names:
        typed = f"{surname[: rng.randint(3, 6)]} {given[:2]}"
        out["name_prefix"].append((typed, surname[:4].casefold()))
    for (e164,) in phones:
        out["phone_full"].append((_phone_typed(e164, rng), e164))
    out["phone_last4"] = [(e[-4:], e[-4:]) for (e,) in phones]
    out["plate_fragment_other_alphabet"] = [
        (k[:6].translate(_TO_CYRILLIC).lower(), k[:6]) for (k,) in plates
    ]
    out["vin_fragment"] = [(v[-6:], v[-6:]) for (v,) in vins]
    return out


_SCANS = {
    "name_prefix": "SELECT id FROM counterparties WHERE name_key LIKE ?",
    "phone_full": "SELECT counterparty_id FROM contacts WHERE phone_e164 LIKE ?",
    "phone_last4": "SELECT counterparty_id FROM contacts WHERE phone_e164 LIKE ?",
    "plate_fragment_other_alphabet": "SELECT owner_id FROM cars WHERE plate_key LIKE ?",
    "vin_fragment": "SELECT owner_id FROM cars WHERE vin LIKE ?",
}


def run(
    clients: int = 100_000, seed: int = 1, repeat: int = 200, data: Path | None = None
) -> dict[str, Any]:
    """Measure on a new demo base, or on the existing one in ``data`` (built by demo-data)."""
    from lsnode.cli import seed_demo

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="lsavto-bench-") as tmp:
        build_s = 0.0
        if data is None:
            data = Path(tmp) / "data"
            t0 = time.perf_counter()
            seed_demo(data, clients, seed, date(2026, 12, 1))
            build_s = time.perf_counter() - t0
        db = open_store(data)
        counts = {
            t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("counterparties", "cars", "contacts")
        }
        try:
            repo = SqliteClients(db)
            queries = _queries(db, rng, repeat)
            scan_n = max(10, repeat // 10)
            kinds: dict[str, Any] = {}
            for kind, pairs in queries.items():
                typed = [t for t, _ in pairs]
                for q in typed[:10]:  # warm the page cache like a running node has it
                    search(repo, repo, q)

                def indexed(q: str) -> list[Any]:
                    return search(repo, repo, q).hits

                def scan(pattern: str, sql: str = _SCANS[kind]) -> list[Any]:
                    return db.execute(sql, [f"%{pattern}%"]).fetchall()

                ms, found = _time(indexed, typed)
                scan_ms, _ = _time(scan, [p for _, p in pairs[:scan_n]])
                p95 = _pct(ms, 0.95)
                scan_p95 = _pct(scan_ms, 0.95)
                kinds[kind] = {
                    "example_query": typed[0],
                    "queries": len(ms),
                    "p50_ms": round(_pct(ms, 0.5), 3),
                    "p95_ms": round(p95, 3),
                    "scan_queries": len(scan_ms),
                    "scan_p50_ms": round(_pct(scan_ms, 0.5), 3),
                    "scan_p95_ms": round(scan_p95, 3),
                    "speedup_p95_x": round(scan_p95 / p95, 1) if p95 else None,
                    "found_any_share": round(sum(1 for n in found if n) / len(found), 3),
                    "hits_mean": round(statistics.fmean(found), 1),
                }
        finally:
            db.close()
    ok = all(
        k["p95_ms"] <= GOAL_P95_MS and (k["speedup_p95_x"] or 0) >= GOAL_SPEEDUP_X
        for k in kinds.values()
    )
    return {
        "bench": "search",
        "clients": counts.get("counterparties", clients),
        "cars": counts.get("cars", 0),
        "contacts": counts.get("contacts", 0),
        "build_s": round(build_s, 1),
        "kinds": kinds,
        "goal": {"p95_ms_max": GOAL_P95_MS, "speedup_x_min": GOAL_SPEEDUP_X},
        "goal_met": ok,
    }
