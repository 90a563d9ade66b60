"""A call's recording on a node: fetched from the hub once, then played from the node's cache.

The hub keeps the WAVs (``hub/recordings.py`` serves them on its TLS port); a paired node asks
for one by the call's id with its pairing credential, over the same pinned TLS as sync, in
chunks (``Range``) appended to ``DATA/recordings-cache/<call id>.part`` and renamed to
``<call id>.wav`` when complete — an interrupted download continues where it stopped, and a
cached recording is never fetched again. Blocking: call it off the UI thread.

``recording_of(db, ref)`` finds the call with a recording for a traffic id or a call id (the
newest, when a contact has several calls).
"""

from __future__ import annotations

import http.client
import re
import ssl
from pathlib import Path
from typing import Any, Final

from lsnode.errors import LsnodeError
from lsnode.sync.keys import TrustError, check_pin, client_ssl_context
from lsnode.sync.pairing import NodeIdentity

CACHE_DIR: Final = "recordings-cache"
CHUNK: Final = 1 << 20
TIMEOUT_S: Final = 10.0
MAX_BYTES: Final = 1 << 31  # a recording is never bigger (8 kHz stereo 8-bit: ~37 hours)
_UUID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CONTENT_RANGE: Final = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class RecordingError(LsnodeError):
    """Why a recording could not be had; ``reason`` names it for the UI's message:
    ``not_paired``, ``offline``, ``denied`` (the hub refused this node), ``missing`` (no such
    recording on the hub), ``untrusted`` (not the pinned hub) or ``failed``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"recording: {reason}" + (f" ({detail})" if detail else ""))


def recording_of(db: Any, ref: str) -> dict[str, Any] | None:
    """The newest call with a recording whose id or traffic id is ``ref``: its ``id``,
    ``recording``, ``started_at``, ``talk_s``, ``traffic_id``."""
    row = db.execute(
        "SELECT id, recording, started_at, talk_s, traffic_id FROM calls "
        "WHERE (id = ? OR traffic_id = ?) AND recording != '' "
        "ORDER BY started_at DESC, id DESC LIMIT 1",
        [ref, ref],
    ).fetchone()
    if row is None:
        return None
    keys = ("id", "recording", "started_at", "talk_s", "traffic_id")
    return dict(zip(keys, row, strict=True))


def cached_path(data_dir: Path, call_id: str) -> Path:
    if not _UUID.match(call_id):
        raise RecordingError("missing", f"not a call id: {call_id!r}")
    return Path(data_dir) / CACHE_DIR / f"{call_id}.wav"


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _request(
    address: str, identity: NodeIdentity, call_id: str, start: int, timeout: float
) -> tuple[int, dict[str, str], bytes]:
    host, port = _split(address)
    conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=client_ssl_context())
    try:
        try:
            conn.connect()
            assert isinstance(conn.sock, ssl.SSLSocket)
            check_pin(conn.sock, identity.hub_fingerprint)
        except TrustError as exc:
            raise RecordingError("untrusted", str(exc)) from None
        except OSError as exc:
            raise RecordingError("offline", f"{type(exc).__name__}: {exc}") from None
        try:
            conn.request(
                "GET",
                f"/voice/recordings/{call_id}",
                headers={
                    "Authorization": f"Bearer {identity.node_id}:{identity.token}",
                    "Range": f"bytes={start}-{start + CHUNK - 1}",
                },
            )
            response = conn.getresponse()
            body = response.read(CHUNK + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise RecordingError("offline", f"{type(exc).__name__}: {exc}") from None
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, body
    finally:
        conn.close()


def fetch_recording(
    data_dir: Path,
    identity: NodeIdentity | None,
    call_id: str,
    address: str | None = None,
    timeout: float = TIMEOUT_S,
) -> Path:
    """The recording of ``call_id`` in this node's cache, fetched from the hub if it is not
    there yet. ``address``: where the hub is now (the sync agent's; default the paired one)."""
    path = cached_path(data_dir, call_id)
    if path.is_file():
        return path
    if identity is None:
        raise RecordingError("not_paired")
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    where = address or identity.hub_address
    while True:
        have = part.stat().st_size if part.exists() else 0
        status, headers, body = _request(where, identity, call_id, have, timeout)
        if status in (401, 403):
            raise RecordingError("denied", f"HTTP {status}")
        if status == 404:
            raise RecordingError("missing", f"HTTP {status}")
        if status == 416 and have:
            part.unlink(missing_ok=True)  # the hub's file is shorter than ours: start again
            continue
        if status == 200:
            total = len(body)
            part.write_bytes(body)
        elif status == 206:
            m = _CONTENT_RANGE.match(headers.get("content-range", ""))
            if m is None or int(m.group(1)) != have or len(body) > CHUNK:
                raise RecordingError("failed", "the hub answered with a wrong range")
            total = int(m.group(3))
            if total > MAX_BYTES or int(m.group(2)) - have + 1 != len(body):
                raise RecordingError("failed", "the hub answered with a wrong range")
            with part.open("ab") as f:
                f.write(body)
        else:
            raise RecordingError("failed", f"HTTP {status}")
        size = part.stat().st_size
        if size >= total:
            break
        if not body:
            raise RecordingError("failed", "the hub sent nothing")
    with part.open("rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        part.unlink(missing_ok=True)
        raise RecordingError("failed", "not a WAV file")
    part.replace(path)
    return path
