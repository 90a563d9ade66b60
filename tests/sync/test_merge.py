"""The merge is a join: idempotent, commutative, associative — so delivery order never matters."""

from __future__ import annotations

from functools import reduce

from hypothesis import given
from hypothesis import strategies as st

from lsnode.sync.hlc import make_version
from lsnode.sync.merge import RowState, compact, merge

COLUMNS = ["name", "address", "region_id"]
SITES = ["a" * 16, "b" * 16, "c" * 16]


@st.composite
def states(draw: st.DrawFn) -> RowState:
    cl = draw(st.integers(1, 4))
    if cl % 2 == 0:
        v = make_version(draw(st.integers(0, 20)), 0, draw(st.sampled_from(SITES)))
        return RowState("branches", "r1", cl, v)
    cols = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, unique=True))
    versions = {}
    values = {}
    for c in cols:
        ms, site = draw(st.integers(0, 20)), draw(st.sampled_from(SITES))
        versions[c] = make_version(ms, 0, site)
        # One version is one write: the same version always carries the same value.
        values[c] = f"{c}-{ms}-{site[0]}-{cl}"
    return compact("branches", "r1", cl, versions, values)


def join(a: RowState, b: RowState) -> RowState:
    return merge(a, b) or a


def same(a: RowState, b: RowState) -> bool:
    if a.cl != b.cl:
        return False
    if not a.alive:
        return a.base == b.base
    cols = set(a.values) | set(b.values)
    return all(
        a.values.get(c) == b.values.get(c) and a.version_of(c) == b.version_of(c) for c in cols
    )


@given(states())
def test_idempotent(s: RowState) -> None:
    assert merge(s, s) is None


@given(states(), states())
def test_commutative(a: RowState, b: RowState) -> None:
    assert same(join(a, b), join(b, a))


@given(states(), states(), states())
def test_associative(a: RowState, b: RowState, c: RowState) -> None:
    assert same(join(join(a, b), c), join(a, join(b, c)))


@given(st.lists(states(), min_size=1, max_size=6), st.randoms())
def test_any_delivery_order_gives_one_result(items: list[RowState], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert same(reduce(join, items), reduce(join, shuffled))


def test_concurrent_edits_of_different_columns_both_survive() -> None:
    base = {"name": make_version(1, 0, SITES[0]), "address": make_version(1, 0, SITES[0])}
    v0 = compact("branches", "r1", 1, base, {"name": "Кардинал", "address": "ул. Ленина"})
    a = compact(
        "branches", "r1", 1, {**base, "name": make_version(5, 0, SITES[0])},
        {"name": "Кардинал-Север", "address": "ул. Ленина"},
    )  # fmt: skip
    b = compact(
        "branches", "r1", 1, {**base, "address": make_version(6, 0, SITES[1])},
        {"name": "Кардинал", "address": "пр. Мира"},
    )  # fmt: skip
    for merged in (join(join(v0, a), b), join(join(v0, b), a)):
        assert dict(merged.values) == {"name": "Кардинал-Север", "address": "пр. Мира"}


def test_delete_wins_over_an_update_of_the_same_life() -> None:
    alive = compact("branches", "r1", 1, {"name": make_version(9, 0, SITES[0])}, {"name": "x"})
    dead = RowState("branches", "r1", 2, make_version(1, 0, SITES[1]))
    assert join(alive, dead).cl == 2 and join(dead, alive).cl == 2
