"""Enrolling nodes with a one-time code, and the credentials they get.

Hub side, :class:`HubTrust` keeps ``DATA/trust.json`` (0600, replaced atomically). It holds only
hashes: an open pairing code as a salted scrypt hash (8 digits are few, so the hash must be slow
to make a leaked file useless within a code's minutes of life), a node's token as SHA-256 (the
token is 256 random bits, nothing to brute-force). Every call re-reads the file — a few hundred
bytes per node, tens of microseconds — so ``lsavto hub revoke`` run in another process refuses the
node in the running hub at its very next :meth:`HubTrust.verify`, with no signal or reload.
Changes take an exclusive lock on ``trust.json.lock`` around read-modify-write, so two processes
never lose each other's changes.

Node side, :class:`NodeIdentity` (hub address, pinned fingerprint, node id and token) is sealed
in the data dir with :class:`lsnode.sync.keys.SecretBox`.

The hub shows the code and a QR code of :func:`pairing_uri`:
``lsavto://pair?hub=HOST:PORT&code=48219377&fp=<sha256 of the hub certificate>``.

Errors: :class:`PairingError` (an :class:`lsnode.errors.InputError`: a wrong, expired or used
code, a bad node name, an unreadable pairing link) with a ``reason`` the UI translates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import segno

from lsnode.errors import DataDirError, InputError, NotFound
from lsnode.sync.keys import (
    load_secret,
    normalize_fingerprint,
    save_secret,
    write_atomic,
)

TRUST_FILE: Final = "trust.json"
TRUST_VERSION: Final = 1
NODE_IDENTITY_SECRET: Final = "node_identity"
CODE_DIGITS: Final = 8
DEFAULT_CODE_TTL_S: Final = 600
MAX_CODE_TTL_S: Final = 24 * 3600
#: Each open code costs one scrypt per redeem attempt, so only a few may be open at once.
MAX_OPEN_CODES: Final = 5
MAX_FAILURES: Final = 5
FAILURE_WINDOW_S: Final = 600
MAX_NODE_NAME: Final = 64
URI_SCHEME: Final = "lsavto"
QR_TARGET_PX: Final = 300
_CODE_SEPARATORS: Final = re.compile(r"[\s\-‐‑‒–—_.]")
_NODE_ID_RE: Final = re.compile(r"[0-9a-f]{16}")
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_NO_TOKEN_HASH: Final = hashlib.sha256(b"no node has this token").hexdigest()


class PairingError(InputError):
    """Pairing refused. ``reason`` is one of ``invalid_code`` (wrong, expired or already used),
    ``locked_out`` (too many wrong codes: all open codes were cancelled), ``bad_name``,
    ``bad_link`` — the UI shows its own translated text for it."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PairingCode:
    """A code to show on the hub: ``code`` is grouped for reading aloud, e.g. ``4821-9377``."""

    code: str = field(repr=False)
    expires_at: float


@dataclass(frozen=True, slots=True)
class NodeCredential:
    """What a node gets once: its id (16 lower hex) and its token (43 url-safe characters)."""

    node_id: str
    token: str = field(repr=False)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _iso(instant: float) -> str:
    return dt.datetime.fromtimestamp(instant, dt.UTC).isoformat(timespec="seconds")


def _hash_code(digits: str, salt: bytes, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    # ~50 ms here: all 10^8 codes take years to try, and a code lives ten minutes.
    return hashlib.scrypt(digits.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=32).hex()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def normalize_code(code: str) -> str | None:
    """The 8 digits of a code typed as ``4821-9377``, ``4821 9377`` or ``48219377``; else None."""
    if not isinstance(code, str):
        return None
    digits = _CODE_SEPARATORS.sub("", code)
    if len(digits) != CODE_DIGITS or not all("0" <= c <= "9" for c in digits):
        return None
    return digits


def _check_node_name(node_name: str) -> str:
    name = node_name.strip() if isinstance(node_name, str) else ""
    if not name or len(name) > MAX_NODE_NAME or not name.isprintable():
        raise PairingError(
            f"a node name is 1–{MAX_NODE_NAME} printable characters, not {node_name!r}",
            "bad_name",
        )
    return name


class HubTrust:
    """The hub's record of pairing codes and paired nodes, in ``DATA/trust.json``."""

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self._dir = Path(data_dir)
        self._path = self._dir / TRUST_FILE
        self._lock_path = self._dir / f"{TRUST_FILE}.lock"
        self._clock = clock

    # --- state ---

    def _load(self) -> dict[str, Any]:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            if not self._dir.is_dir():
                raise DataDirError(f"data dir {self._dir} does not exist") from None
            return {"version": TRUST_VERSION, "codes": [], "failures": [], "nodes": {}}
        try:
            state = json.loads(raw)
        except ValueError as exc:
            raise DataDirError(f"{self._path} is damaged: {exc}") from None
        if not isinstance(state, dict) or state.get("version") != TRUST_VERSION:
            raise DataDirError(f"{self._path} is damaged or written by a newer version")
        return state

    def _save(self, state: dict[str, Any]) -> None:
        data = json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True).encode()
        write_atomic(self._path, data, 0o600)

    @contextlib.contextmanager
    def _change(self) -> Iterator[dict[str, Any]]:
        """Locked read-modify-write; the state is saved when the block ends, even by an error
        (a failed redeem must still record its failure)."""
        if not self._dir.is_dir():
            raise DataDirError(f"data dir {self._dir} does not exist")
        with _exclusive(self._lock_path):
            state = self._load()
            now = self._clock()
            state["codes"] = [c for c in state["codes"] if c["expires_at"] > now]
            state["failures"] = [t for t in state["failures"] if t > now - FAILURE_WINDOW_S]
            try:
                yield state
            finally:
                self._save(state)

    # --- codes ---

    def issue_code(self, ttl_s: int = DEFAULT_CODE_TTL_S) -> PairingCode:
        """A new one-time code valid for ``ttl_s`` seconds; the oldest open codes beyond
        :data:`MAX_OPEN_CODES` are cancelled."""
        if not 0 < ttl_s <= MAX_CODE_TTL_S:
            raise InputError(f"a pairing code lives 1–{MAX_CODE_TTL_S} s, not {ttl_s}")
        digits = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = secrets.token_bytes(16)
        entry: dict[str, Any] = {"salt": salt.hex(), "hash": _hash_code(digits, salt)}
        with self._change() as state:
            expires_at = self._clock() + ttl_s
            entry["expires_at"] = expires_at
            state["codes"] = [*state["codes"], entry][-MAX_OPEN_CODES:]
        return PairingCode(f"{digits[:4]}-{digits[4:]}", expires_at)

    def cancel_codes(self) -> int:
        """Cancel every open code; returns how many were open."""
        with self._change() as state:
            count = len(state["codes"])
            state["codes"] = []
        return count

    def redeem(self, code: str, node_name: str) -> NodeCredential:
        """Use ``code`` once to enrol a node called ``node_name``.

        A wrong, expired or used code raises :class:`PairingError`; the fifth failure within
        ten minutes cancels every open code, so guessing 8 digits is hopeless.
        """
        name = _check_node_name(node_name)
        digits = normalize_code(code)
        with self._change() as state:
            match = None
            for entry in state["codes"]:  # no early exit: time does not tell which one matched
                if digits is not None:
                    digest = _hash_code(digits, bytes.fromhex(entry["salt"]))
                    if hmac.compare_digest(digest, entry["hash"]) and match is None:
                        match = entry
            now = self._clock()
            if match is None:
                state["failures"] = [*state["failures"], now]
                if len(state["failures"]) >= MAX_FAILURES:
                    state["codes"], state["failures"] = [], []
                    raise PairingError(
                        f"{MAX_FAILURES} wrong pairing codes in a row: every open code was "
                        "cancelled; issue a new code on the hub",
                        "locked_out",
                    )
                raise PairingError(
                    "the pairing code is wrong or has expired; check it or issue a new one",
                    "invalid_code",
                )
            state["codes"] = [c for c in state["codes"] if c is not match]
            node_id = secrets.token_hex(8)
            while node_id in state["nodes"]:
                node_id = secrets.token_hex(8)
            token = secrets.token_urlsafe(32)
            state["nodes"][node_id] = {
                "name": name,
                "token_sha256": _hash_token(token),
                "paired_at": _iso(now),
                "revoked_at": None,
                "last_seen": None,
            }
        return NodeCredential(node_id, token)

    # --- nodes ---

    def verify(self, node_id: str, token: str) -> bool:
        """True if ``token`` is the live credential of ``node_id``; False for anything else —
        unknown, revoked, malformed. Reads trust.json afresh: a revocation counts at once."""
        node = self._load()["nodes"].get(node_id) if isinstance(node_id, str) else None
        live = isinstance(node, dict) and node.get("revoked_at") is None
        expected = node["token_sha256"] if live and node else _NO_TOKEN_HASH
        presented = _hash_token(token) if isinstance(token, str) else ""
        return hmac.compare_digest(presented, expected) and live

    def revoke(self, node_id: str) -> None:
        """Refuse ``node_id`` from now on (NotFound if it never paired; revoking twice is fine)."""
        with self._change() as state:
            node = state["nodes"].get(node_id)
            if node is None:
                raise NotFound(f"no paired node {node_id!r}")
            if node["revoked_at"] is None:
                node["revoked_at"] = _iso(self._clock())
                node["token_sha256"] = None

    def claim_site(self, node_id: str, site_id: str) -> bool:
        """Bind ``site_id`` to ``node_id`` (at its hello); False while another node that is not
        revoked holds it. The hub acknowledges pushes per site id, and a site id is only a claim
        made in a frame: without this, one paired node could silence another's pushes."""
        with self._change() as state:
            nodes = state["nodes"]
            if node_id not in nodes:
                return False
            for other_id, other in nodes.items():
                held = other.get("site_id") == site_id and other["revoked_at"] is None
                if held and other_id != node_id:
                    return False
            nodes[node_id]["site_id"] = site_id
            return True

    def mark_seen(self, node_id: str) -> None:
        """Record that ``node_id`` connected now (shown by :meth:`nodes`)."""
        with self._change() as state:
            node = state["nodes"].get(node_id)
            if node is None:
                raise NotFound(f"no paired node {node_id!r}")
            node["last_seen"] = _iso(self._clock())

    def nodes(self) -> list[dict[str, Any]]:
        """Paired nodes, oldest first: node_id, name, paired_at, revoked_at, last_seen (ISO UTC
        or None). No token material."""
        rows = [
            {
                "node_id": node_id,
                "name": node["name"],
                "paired_at": node["paired_at"],
                "revoked_at": node["revoked_at"],
                "last_seen": node.get("last_seen"),
            }
            for node_id, node in self._load()["nodes"].items()
        ]
        return sorted(rows, key=lambda row: (row["paired_at"], row["node_id"]))


# --- the node's side --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """What a paired node knows about its hub and itself; sealed at rest as ``node_identity``."""

    hub_address: str
    hub_fingerprint: str
    hub_id: str
    node_id: str
    token: str = field(repr=False)

    def __post_init__(self) -> None:
        _check_host_port(self.hub_address)
        object.__setattr__(self, "hub_fingerprint", normalize_fingerprint(self.hub_fingerprint))
        if not isinstance(self.hub_id, str) or not self.hub_id:
            raise InputError("a node identity needs the hub's id")
        if not isinstance(self.node_id, str) or not _NODE_ID_RE.fullmatch(self.node_id):
            raise InputError(f"a node id is 16 lower-case hex digits, not {self.node_id!r}")
        if not isinstance(self.token, str) or not _TOKEN_RE.fullmatch(self.token):
            raise InputError("a node token is 43 url-safe characters")

    def save(self, data_dir: Path) -> None:
        payload = {
            "version": 1,
            "hub_address": self.hub_address,
            "hub_fingerprint": self.hub_fingerprint,
            "hub_id": self.hub_id,
            "node_id": self.node_id,
            "token": self.token,
        }
        save_secret(data_dir, NODE_IDENTITY_SECRET, json.dumps(payload).encode())

    @classmethod
    def load(cls, data_dir: Path) -> NodeIdentity | None:
        """The saved identity, or None if this node never paired."""
        raw = load_secret(data_dir, NODE_IDENTITY_SECRET)
        if raw is None:
            return None
        try:
            payload = json.loads(raw)
            return cls(
                hub_address=payload["hub_address"],
                hub_fingerprint=payload["hub_fingerprint"],
                hub_id=payload["hub_id"],
                node_id=payload["node_id"],
                token=payload["token"],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DataDirError(f"the saved node identity is damaged: {exc}") from None


# --- the pairing link and its QR code ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PairingInvite:
    """A parsed pairing link: where the hub is, the code (8 digits), and the pin."""

    hub: str
    code: str = field(repr=False)
    fingerprint: str


def _check_host_port(host_port: str) -> tuple[str, int]:
    bad = PairingError(f"the hub address must look like host:port, not {host_port!r}", "bad_link")
    if not isinstance(host_port, str) or not host_port or host_port != host_port.strip():
        raise bad
    if any(c in host_port for c in "/?#@\\") or not host_port.isprintable():
        raise bad
    try:
        parts = urllib.parse.urlsplit("//" + host_port)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise bad from None
    if not host or port is None or port == 0 or parts.netloc != host_port:
        raise bad
    return host, port


def pairing_uri(host_port: str, code: str, fingerprint: str) -> str:
    """``lsavto://pair?hub=HOST:PORT&code=DIGITS&fp=SHA256`` for the QR code the hub shows."""
    _check_host_port(host_port)
    digits = normalize_code(code)
    if digits is None:
        raise PairingError(f"a pairing code is {CODE_DIGITS} digits", "invalid_code")
    query = urllib.parse.urlencode(
        {"hub": host_port, "code": digits, "fp": normalize_fingerprint(fingerprint)},
        safe=":[]",
    )
    return f"{URI_SCHEME}://pair?{query}"


def parse_pairing_uri(uri: str) -> PairingInvite:
    """The parts of a scanned pairing link; :class:`PairingError` if it is not one."""
    bad = PairingError("this is not an LSAvto pairing link", "bad_link")
    if not isinstance(uri, str):
        raise bad
    try:
        parts = urllib.parse.urlsplit(uri.strip())
        fields = urllib.parse.parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise bad from None
    if parts.scheme.lower() != URI_SCHEME or parts.netloc.lower() != "pair" or parts.path:
        raise bad
    if set(fields) != {"hub", "code", "fp"} or any(len(v) != 1 for v in fields.values()):
        raise bad
    hub, code, fp = fields["hub"][0], fields["code"][0], fields["fp"][0]
    _check_host_port(hub)
    digits = normalize_code(code)
    if digits is None:
        raise bad
    try:
        fingerprint = normalize_fingerprint(fp)
    except InputError:
        raise bad from None
    return PairingInvite(hub, digits, fingerprint)


def write_qr_png(uri: str, path: Path) -> None:
    """Write ``uri`` as a QR code PNG about 300 px wide (error correction M, 4-module border),
    large enough for a tablet camera at arm's length."""
    qr = segno.make_qr(uri, error="m")
    width, _ = qr.symbol_size(scale=1, border=4)
    scale = max(4, math.ceil(QR_TARGET_PX / width))
    qr.save(str(path), kind="png", scale=scale, border=4)
