"""Replicas converge whatever happens in between (ARCHITECTURE.md «Sync rules»).

Real SQLite stores — one hub and 2–6 nodes — take random inserts, per-column updates, deletes and
re-creates under clocks skewed by up to a day, and exchange changes through the same store
functions the protocol drives (``accept_push`` / ``changes_since`` / ``apply_pull``), in random
partial batches, duplicated and reordered. After a final full exchange every replica has the same
checksums, and no write the hub acknowledged is lost: each acknowledged column version is still
there or superseded by a later one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from lsnode.store.changes import Writer, meta_int, site_id
from lsnode.store.db import memory_store
from lsnode.store.replica import (
    accept_push,
    apply_pull,
    changes_since,
    checksums,
    mark_pushed,
    pending,
    promote_to_hub,
    read_states,
)
from lsnode.sync.merge import RowState

DAY_MS = 24 * 3600 * 1000
T0 = 1_780_000_000_000


@dataclass
class Replica:
    db: Database
    writer: Writer
    skew: int
    ids: list[str] = field(default_factory=list)


def make_node(skew: int, now: list[int]) -> Replica:
    db = memory_store()
    writer = Writer(db, wall_ms=lambda: now[0] + skew)
    return Replica(db, writer, skew)


def push(
    node: Replica, hub: Database, limit: int, rng: random.Random, acked: list[RowState]
) -> None:
    site = site_id(node.db)
    batch, last = pending(node.db, meta_int(node.db, "pushed_seq"), limit)
    if not batch:
        return
    delivered = list(batch)
    if rng.random() < 0.3:
        delivered += batch[: rng.randint(1, len(batch))]  # a retry arriving twice
    rng.shuffle(delivered)  # …and out of order
    ack = accept_push(hub, site, delivered)
    if rng.random() < 0.2:
        return  # the ack is lost on the way back: the node will push the same again
    acked.extend(state for _, state in batch)
    mark_pushed(node.db, min(ack, last))


def pull(node: Replica, hub: Database, limit: int) -> None:
    states, upto = changes_since(hub, meta_int(node.db, "cursor"), limit)
    apply_pull(node.db, states, upto)


def sync_all(
    nodes: list[Replica], hub: Database, rng: random.Random, acked: list[RowState]
) -> None:
    for _ in range(3):
        for node in nodes:
            for _ in range(50):
                before = meta_int(node.db, "pushed_seq")
                push(node, hub, 1000, rng, acked)
                if meta_int(node.db, "pushed_seq") == before and not pending(node.db, before, 1)[0]:
                    break
            pull(node, hub, 10_000)


op = st.tuples(
    st.sampled_from(["insert", "update", "update", "delete", "recreate", "push", "pull"]),
    st.integers(0, 5),  # node
    st.integers(0, 50),  # row pick
    st.integers(1, 30),  # batch size / value
)


@settings(max_examples=40, deadline=None)
@given(
    n_nodes=st.integers(2, 6),
    skews=st.lists(st.integers(-DAY_MS, DAY_MS), min_size=6, max_size=6),
    ops=st.lists(op, min_size=5, max_size=60),
    seed=st.integers(0, 2**32),
)
def test_replicas_converge_and_keep_acknowledged_writes(
    n_nodes: int, skews: list[int], ops: list[tuple[str, int, int, int]], seed: int
) -> None:
    rng = random.Random(seed)
    now = [T0]
    hub = memory_store()
    promote_to_hub(hub)
    nodes = [make_node(skews[i], now) for i in range(n_nodes)]
    known: list[str] = []
    deleted: list[str] = []
    acked: list[RowState] = []
    for kind, n, pick, value in ops:
        now[0] += rng.randint(0, 5)
        node = nodes[n % n_nodes]
        live = [r[0] for r in node.db.execute("SELECT id FROM branches ORDER BY id").fetchall()]
        if kind == "insert" or (kind in ("update", "delete") and not live):
            known.append(node.writer.insert("branches", {"name": f"b{value}", "address": "-"}))
        elif kind == "update":
            row = live[pick % len(live)]
            col = rng.choice(["name", "address"])
            node.writer.update("branches", row, {col: f"{col}{value}@{n}"})
        elif kind == "delete":
            row = live[pick % len(live)]
            node.writer.delete("branches", row)
            deleted.append(row)
        elif kind == "recreate" and deleted:
            row = deleted[pick % len(deleted)]
            if row not in live:
                node.writer.insert("branches", {"id": row, "name": f"again{value}"})
        elif kind == "push":
            push(node, hub, value, rng, acked)
        elif kind == "pull":
            pull(node, hub, value)

    sync_all(nodes, hub, rng, acked)

    expected = checksums(hub)
    for node in nodes:
        assert checksums(node.db) == expected
    final = read_states(hub, [(s.table, s.row_id) for s in acked])
    for state in acked:
        now_state = final[(state.table, state.row_id)]
        assert now_state.cl >= state.cl
        if now_state.cl == state.cl and state.alive:
            for col in state.values:
                assert now_state.version_of(col) >= state.version_of(col), (state, now_state)


def test_delete_beats_a_concurrent_update_and_recreate_beats_the_delete() -> None:
    now = [T0]
    hub = memory_store()
    promote_to_hub(hub)
    a, b = make_node(0, now), make_node(0, now)
    rng = random.Random(1)
    row = a.writer.insert("branches", {"name": "Кардинал"})
    push(a, hub, 100, rng := random.Random(0), [])
    pull(b, hub, 100)
    now[0] += 10
    b.writer.update("branches", row, {"name": "Кардинал-2"})  # b edits…
    now[0] += 10
    a.writer.delete("branches", row)  # …while a deletes, later
    sync_all([a, b], hub, rng, [])
    assert checksums(a.db) == checksums(b.db) == checksums(hub)
    assert hub.execute("SELECT count(*) FROM branches").fetchone()[0] == 0
    a.writer.insert("branches", {"id": row, "name": "Кардинал снова"})
    sync_all([a, b], hub, rng, [])
    assert b.db.execute("SELECT name FROM branches").fetchall() == [("Кардинал снова",)]


def test_hub_numbers_new_rows_once_and_nodes_learn_them() -> None:
    now = [T0]
    hub = memory_store()
    promote_to_hub(hub)
    a = make_node(DAY_MS, now)  # a clock a day fast must not take the number away
    rng = random.Random(2)
    cp = a.writer.insert(
        "counterparties",
        {
            "kind": "person",
            "full_name": "Иванов",
            "short_name": "Иванов",
            "name_key": "иванов",
            "registered_at": "2026-12-03",
        },
    )
    for _ in range(3):  # retries must not renumber
        sync_all([a], hub, rng, [])
    assert hub.execute("SELECT number FROM counterparties").fetchall() == [(1,)]
    assert a.db.execute("SELECT number FROM counterparties WHERE id=?", [cp]).fetchone() == (1,)
    a.writer.update("counterparties", cp, {"note": "VIP"})
    sync_all([a], hub, rng, [])
    assert hub.execute("SELECT number, note FROM counterparties").fetchall() == [(1, "VIP")]
