"""The sync protocol's messages: frozen dataclasses and their JSON codec (never pickle).

Every frame is one JSON object ``{"v": 1, "type": …, …}``. ``decode`` treats a frame as untrusted
input: size, JSON shape, field names and types, table and column names, version strings and
value types are all checked before a message exists, and anything else is a ``ProtocolError``
with a short machine code (for the close reason) and a sentence for the log.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, Final

from lsnode.errors import InputError
from lsnode.sync.hlc import is_site, is_version
from lsnode.sync.merge import RowState

PROTOCOL_VERSION: Final = 1
MAX_FRAME_BYTES: Final = 8 * 1024 * 1024
MAX_BATCH: Final = 5000
MAX_TEXT: Final = 100_000
MAX_ID: Final = 64
MAX_SEQ: Final = 2**62
MAX_REASON: Final = 1000


class ProtocolError(InputError):
    """A frame that breaks the protocol; ``code`` goes into the close reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Message:
    type: ClassVar[str] = ""


@dataclass(frozen=True, slots=True)
class Hello(Message):
    """Node → hub, first frame: who I am and where I left off."""

    type: ClassVar[str] = "hello"
    node_id: str
    token: str
    site_id: str
    schema: int
    epoch: str | None
    cursor: int


@dataclass(frozen=True, slots=True)
class Pair(Message):
    """A new node → hub, first frame: the one-time code shown on the hub."""

    type: ClassVar[str] = "pair"
    code: str
    name: str
    schema: int


@dataclass(frozen=True, slots=True)
class Paired(Message):
    type: ClassVar[str] = "paired"
    hub_id: str
    node_id: str
    token: str


@dataclass(frozen=True, slots=True)
class Welcome(Message):
    """Hub → node: the hub's identity and what it already has of this node's changes."""

    type: ClassVar[str] = "welcome"
    hub_id: str
    epoch: str
    schema: int
    hub_seq: int
    acked_seq: int
    time_ms: int
    rebootstrap: bool = False


@dataclass(frozen=True, slots=True)
class SnapshotRequest(Message):
    """Node → hub: send me the whole store (a fresh node, or one told to re-bootstrap)."""

    type: ClassVar[str] = "snapshot_request"


@dataclass(frozen=True, slots=True)
class SnapshotStart(Message):
    """Hub → node: ``size`` bytes of a ``VACUUM INTO`` copy follow in binary frames."""

    type: ClassVar[str] = "snapshot_start"
    hub_seq: int
    epoch: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Push(Message):
    type: ClassVar[str] = "push"
    batch: tuple[tuple[int, RowState], ...]


@dataclass(frozen=True, slots=True)
class Ack(Message):
    type: ClassVar[str] = "ack"
    acked_seq: int


@dataclass(frozen=True, slots=True)
class Pull(Message):
    type: ClassVar[str] = "pull"
    since: int
    limit: int


@dataclass(frozen=True, slots=True)
class Changes(Message):
    """Hub → node: states changed after ``since`` up to ``upto``; ``more`` when a pull is due."""

    type: ClassVar[str] = "changes"
    since: int
    upto: int
    states: tuple[RowState, ...]
    more: bool = False


@dataclass(frozen=True, slots=True)
class Intent(Message):
    """Node → hub: set ``column`` to ``value`` only if it still holds ``expect`` (compare-and-set).

    Contested actions — «Взять себе», assigning a visitor from the queue, taking a campaign task
    — are intents: the hub decides in arrival order, and the loser learns who won.
    """

    type: ClassVar[str] = "intent"
    intent_id: str
    table: str
    row_id: str
    column: str
    value: Any
    expect: Any = None


@dataclass(frozen=True, slots=True)
class IntentResult(Message):
    type: ClassVar[str] = "intent_result"
    intent_id: str
    ok: bool
    current: Any = None  # the value that won (e.g. the employee who took the visitor)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Checkpoint(Message):
    """Node → hub, when caught up: my per-table checksums at ``cursor``; are they yours?"""

    type: ClassVar[str] = "checkpoint"
    cursor: int
    sums: dict[str, str]


@dataclass(frozen=True, slots=True)
class CheckpointResult(Message):
    """Hub → node: ``ok``, ``moved`` (the hub changed since; try later) or ``mismatch``."""

    type: ClassVar[str] = "checkpoint_result"
    status: str
    tables: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ping(Message):
    type: ClassVar[str] = "ping"
    nonce: int = 0


@dataclass(frozen=True, slots=True)
class Pong(Message):
    type: ClassVar[str] = "pong"
    nonce: int = 0


@dataclass(frozen=True, slots=True)
class Error(Message):
    """Either side → the other, before closing: why."""

    type: ClassVar[str] = "error"
    code: str
    reason: str
    fatal: bool = True


MESSAGES: Final[dict[str, type[Message]]] = {
    m.type: m
    for m in (
        Hello, Pair, Paired, Welcome, SnapshotRequest, SnapshotStart, Push, Ack, Pull, Changes,
        Intent, IntentResult, Checkpoint, CheckpointResult, Ping, Pong, Error,
    )
}  # fmt: skip


# -- encoding -------------------------------------------------------------------------------


def state_to_json(state: RowState) -> dict[str, Any]:
    out: dict[str, Any] = {"t": state.table, "id": state.row_id, "cl": state.cl, "b": state.base}
    if state.overrides:
        out["o"] = dict(state.overrides)
    if state.values:
        out["v"] = dict(state.values)
    return out


def encode(msg: Message) -> str:
    body: dict[str, Any] = {"v": PROTOCOL_VERSION, "type": msg.type}
    for f in fields(msg):
        value = getattr(msg, f.name)
        if f.name == "batch":
            value = [[seq, state_to_json(s)] for seq, s in value]
        elif f.name == "states":
            value = [state_to_json(s) for s in value]
        elif isinstance(value, tuple):
            value = list(value)
        body[f.name] = value
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


# -- decoding (untrusted) -------------------------------------------------------------------

_SCALAR = (str, int, float, bool, type(None))


def _fail(code: str, message: str) -> ProtocolError:
    return ProtocolError(code, message)


def _int(name: str, value: Any, low: int = 0, high: int = MAX_SEQ) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _fail("bad_field", f"{name} must be an integer in {low}..{high}")
    return value


def _str(name: str, value: Any, limit: int = MAX_ID, empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > limit or (not value and not empty):
        raise _fail("bad_field", f"{name} must be a non-empty string of at most {limit} chars")
    return value


def _value(name: str, value: Any) -> Any:
    if not isinstance(value, _SCALAR):
        raise _fail("bad_value", f"{name} must be a scalar")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise _fail("bad_value", f"{name} is longer than {MAX_TEXT} characters")
    return value


_STATE_KEYS = frozenset({"t", "id", "cl", "b", "o", "v"})
_SCALAR_TYPES = frozenset(_SCALAR)


def state_from_json(raw: Any) -> RowState:
    """One row state; ``_str``/``_value``'s checks inlined for the common case (a pull carries
    thousands of states of a dozen values each), the helpers raise the errors."""
    if type(raw) is not dict or not raw.keys() <= _STATE_KEYS:
        raise _fail("bad_state", "a row state must be an object with t, id, cl, b[, o, v]")
    table = _str("t", raw.get("t"))
    row_id = _str("id", raw.get("id"))
    cl = _int("cl", raw.get("cl"), 1, 2**31)
    base = raw.get("b")
    if not is_version(base):
        raise _fail("bad_version", f"{table}/{row_id}: malformed version")
    overrides = raw.get("o", {})
    values = raw.get("v", {})
    if type(overrides) is not dict or type(values) is not dict:
        raise _fail("bad_state", "o and v must be objects")
    for col, ver in overrides.items():
        if not (type(col) is str and 0 < len(col) <= MAX_ID):
            _str("column", col)
        if not is_version(ver):
            raise _fail("bad_version", f"{table}/{row_id}.{col}: malformed version")
    for col, val in values.items():
        kind = type(val)
        if (
            kind not in _SCALAR_TYPES
            or (kind is str and len(val) > MAX_TEXT)
            or not (type(col) is str and 0 < len(col) <= MAX_ID)
        ):
            _str("column", col)
            _value(col, val)
    if cl % 2 == 0 and values:
        raise _fail("bad_state", f"{table}/{row_id}: a deleted row carries no values")
    if cl % 2 == 1 and not values:
        raise _fail("bad_state", f"{table}/{row_id}: a live row needs its values")
    return RowState(table, row_id, cl, str(base), overrides, values)


def decode(frame: str | bytes) -> Message:
    """Parse and validate one frame; ``ProtocolError`` for anything that is not a message."""
    if len(frame) > MAX_FRAME_BYTES:
        raise _fail("too_big", f"frame of {len(frame)} bytes exceeds {MAX_FRAME_BYTES}")
    try:
        body = json.loads(frame)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise _fail("bad_json", f"frame is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _fail("bad_frame", "frame must be a JSON object")
    if body.get("v") != PROTOCOL_VERSION:
        raise _fail("bad_version", f"protocol version {body.get('v')!r} is not {PROTOCOL_VERSION}")
    cls = MESSAGES.get(body.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise _fail("bad_type", f"unknown message type {body.get('type')!r}")
    names = {f.name for f in fields(cls)}
    given = set(body) - {"v", "type"}
    required = {
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    }
    if not required <= given <= names:
        raise _fail(
            "bad_fields", f"{cls.type}: fields {sorted(given)} do not match {sorted(names)}"
        )
    args = {k: body[k] for k in given}
    return _build(cls, args)


def _build(cls: type[Message], a: dict[str, Any]) -> Message:
    if cls is Hello:
        epoch = a["epoch"]
        if epoch is not None:
            _str("epoch", epoch)
        if not is_site(a["site_id"]):
            raise _fail("bad_field", "site_id must be 16 hex digits")
        return Hello(
            _str("node_id", a["node_id"]), _str("token", a["token"], 200), a["site_id"],
            _int("schema", a["schema"], 0, 10_000), epoch, _int("cursor", a["cursor"]),
        )  # fmt: skip
    if cls is Pair:
        return Pair(_str("code", a["code"]), _str("name", a["name"], 200),
                    _int("schema", a["schema"], 0, 10_000))  # fmt: skip
    if cls is Paired:
        return Paired(_str("hub_id", a["hub_id"]), _str("node_id", a["node_id"]),
                      _str("token", a["token"], 200))  # fmt: skip
    if cls is Welcome:
        rebootstrap = a.get("rebootstrap", False)
        if type(rebootstrap) is not bool:
            raise _fail("bad_field", "rebootstrap must be a boolean")
        return Welcome(
            _str("hub_id", a["hub_id"]), _str("epoch", a["epoch"]),
            _int("schema", a["schema"], 0, 10_000), _int("hub_seq", a["hub_seq"]),
            _int("acked_seq", a["acked_seq"]), _int("time_ms", a["time_ms"], 0, 2**53),
            rebootstrap,
        )  # fmt: skip
    if cls is SnapshotRequest:
        return SnapshotRequest()
    if cls is SnapshotStart:
        digest = _str("sha256", a["sha256"], 64)
        if len(digest) != 64 or not set(digest) <= set("0123456789abcdef"):
            raise _fail("bad_field", "sha256 must be 64 hex digits")
        return SnapshotStart(
            _int("hub_seq", a["hub_seq"]), _str("epoch", a["epoch"]),
            _int("size", a["size"], 1, 2**40), digest,
        )  # fmt: skip
    if cls is Push:
        batch = a["batch"]
        if not isinstance(batch, list) or len(batch) > MAX_BATCH:
            raise _fail("bad_batch", f"batch must be a list of at most {MAX_BATCH}")
        items: list[tuple[int, RowState]] = []
        for item in batch:
            if not isinstance(item, list) or len(item) != 2:
                raise _fail("bad_batch", "batch items are [local_seq, state]")
            items.append((_int("local_seq", item[0], 1), state_from_json(item[1])))
        return Push(tuple(items))
    if cls is Ack:
        return Ack(_int("acked_seq", a["acked_seq"]))
    if cls is Pull:
        return Pull(_int("since", a["since"]), _int("limit", a["limit"], 1, MAX_BATCH))
    if cls is Changes:
        states = a["states"]
        if not isinstance(states, list) or len(states) > MAX_BATCH:
            raise _fail("bad_batch", f"states must be a list of at most {MAX_BATCH}")
        more = a.get("more", False)
        if type(more) is not bool:
            raise _fail("bad_field", "more must be a boolean")
        return Changes(
            _int("since", a["since"]), _int("upto", a["upto"]),
            tuple(state_from_json(s) for s in states), more,
        )  # fmt: skip
    if cls is Intent:
        return Intent(
            _str("intent_id", a["intent_id"]), _str("table", a["table"]),
            _str("row_id", a["row_id"]), _str("column", a["column"]),
            _value("value", a["value"]), _value("expect", a.get("expect")),
        )  # fmt: skip
    if cls is IntentResult:
        ok = a["ok"]
        if type(ok) is not bool:
            raise _fail("bad_field", "ok must be a boolean")
        return IntentResult(_str("intent_id", a["intent_id"]), ok,
                            _value("current", a.get("current")),
                            _str("reason", a.get("reason", ""), 500, empty=True))  # fmt: skip
    if cls is Checkpoint:
        sums = a["sums"]
        if not isinstance(sums, dict) or len(sums) > 200:
            raise _fail("bad_field", "sums must be an object of at most 200 tables")
        for table, digest in sums.items():
            _str("table", table)
            _str("checksum", digest, 100)
        return Checkpoint(_int("cursor", a["cursor"]), dict(sums))
    if cls is CheckpointResult:
        status = a["status"]
        if status not in ("ok", "moved", "mismatch"):
            raise _fail("bad_field", "status must be ok, moved or mismatch")
        tables = a.get("tables", [])
        if not isinstance(tables, list) or len(tables) > 200:
            raise _fail("bad_field", "tables must be a list")
        return CheckpointResult(status, tuple(_str("table", t) for t in tables))
    if cls in (Ping, Pong):
        return cls(_int("nonce", a.get("nonce", 0)))
    if cls is Error:
        fatal = a.get("fatal", True)
        if type(fatal) is not bool:
            raise _fail("bad_field", "fatal must be a boolean")
        return Error(
            _str("code", a["code"]), _str("reason", a["reason"], MAX_REASON, empty=True), fatal
        )
    raise _fail("bad_type", f"unhandled message type {cls.type}")  # pragma: no cover
