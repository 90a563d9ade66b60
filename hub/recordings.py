"""Call recordings for paired nodes: ``GET /voice/recordings/<call id>`` on the hub's TLS port.

The recordings (stereo WAVs, ``DATA/recordings/YYYY/MM/DD/<call id>.wav``) stay on the hub; a
node fetches one when an employee taps «Воспроизвести» (``lsnode.voice.recordings``). The
websockets server hands every HTTP request to ``process_request`` before its WebSocket
handshake: a path under ``/voice/`` is answered here, anything else (the sync connection) goes
on to the handshake untouched.

- **Who.** ``Authorization: Bearer <node id>:<token>`` — the node's pairing credential, checked
  with ``HubTrust.verify`` (re-read on each request: a revoked node is refused at once). No
  credential, a wrong or revoked one: ``401`` and nothing else, before the id is even looked at.
- **What.** The request names a call, never a file: the id must be a UUID, the file is the one
  the hub itself recorded for that call (``calls.recording``), and its resolved path must lie
  inside ``DATA/recordings`` and end in ``.wav`` — no traversal through the store or the URL.
  Unknown id, no recording, a file gone: ``404``.
- **How much.** At most ``CHUNK`` bytes per response, by ``Range: bytes=a-b`` (``206`` with
  ``Content-Range``; a file within one chunk may come whole as ``200``). The node asks chunk by
  chunk, appending to a ``.part`` file, so neither side ever holds a whole hour-long recording
  in memory, and each response is well inside the server's handshake timeout. The hub's event
  loop reads each chunk in a worker thread.
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
from pathlib import Path
from typing import Any, Final

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

log = logging.getLogger("lsavto.hub.recordings")

PREFIX: Final = "/voice/recordings/"
CHUNK: Final = 1 << 20
_UUID: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_RANGE: Final = re.compile(r"^bytes=(\d+)-(\d*)$")
_BEARER: Final = re.compile(r"^Bearer ([0-9a-f]{16}):([A-Za-z0-9_-]{43})$")


def _plain(status: http.HTTPStatus, text: str = "") -> Response:
    body = (text or status.phrase).encode() + b"\n"
    headers = Headers(
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def authorised(trust: Any, request: Request) -> str | None:
    """The node id whose live credential the request carries, else None."""
    m = _BEARER.match(request.headers.get("Authorization", "").strip())
    if m is None:
        return None
    node_id, token = m.group(1), m.group(2)
    return node_id if trust.verify(node_id, token) else None


def recording_path(db: Any, data_dir: Path, call_id: str) -> Path | None:
    """The WAV the hub recorded for ``call_id``, if it is one and where it must be."""
    if not _UUID.match(call_id):
        return None
    row = db.execute("SELECT recording FROM calls WHERE id = ?", [call_id]).fetchone()
    if row is None or not row[0]:
        return None
    root = (Path(data_dir) / "recordings").resolve()
    path = (Path(data_dir) / str(row[0])).resolve()
    if not path.is_relative_to(root) or path.suffix.lower() != ".wav" or not path.is_file():
        return None
    return path


def _read(path: Path, start: int, length: int) -> bytes:
    with path.open("rb") as f:
        f.seek(start)
        return f.read(length)


async def process_request(hub: Any, connection: Any, request: Request) -> Response | None:
    """The hub's ``process_request``: recordings here, the sync handshake otherwise."""
    path = request.path.split("?", 1)[0]
    if not path.startswith("/voice/"):
        return None
    node_id = authorised(hub.trust, request)
    if node_id is None:
        log.warning("recording refused to %s: no live node credential", connection.remote_address)
        return _plain(http.HTTPStatus.UNAUTHORIZED, "pair this device with the hub first")
    if not path.startswith(PREFIX):
        return _plain(http.HTTPStatus.NOT_FOUND)
    call_id = path[len(PREFIX) :]
    wav = recording_path(hub.db, hub.data_dir, call_id)
    if wav is None:
        return _plain(http.HTTPStatus.NOT_FOUND, "no recording for this call")
    size = wav.stat().st_size
    if size == 0:
        return _plain(http.HTTPStatus.NOT_FOUND, "no recording for this call")
    start, end = 0, size - 1
    wanted = request.headers.get("Range", "").strip()
    if wanted:
        m = _RANGE.match(wanted)
        if m is None or int(m.group(1)) >= max(size, 1):
            response = _plain(http.HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            response.headers["Content-Range"] = f"bytes */{size}"
            return response
        start = int(m.group(1))
        end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
    end = min(end, start + CHUNK - 1)
    body = await asyncio.to_thread(_read, wav, start, end - start + 1)
    whole = start == 0 and len(body) == size
    status = http.HTTPStatus.OK if whole and not wanted else http.HTTPStatus.PARTIAL_CONTENT
    headers = Headers(
        [
            ("Content-Type", "audio/wav"),
            ("Content-Length", str(len(body))),
            ("Accept-Ranges", "bytes"),
            ("Cache-Control", "no-store"),
        ]
    )
    if status is http.HTTPStatus.PARTIAL_CONTENT:
        headers["Content-Range"] = f"bytes {start}-{start + len(body) - 1}/{size}"
    if start == 0:
        log.info("recording of call %s (%d bytes) to node %s", call_id, size, node_id)
    return Response(status.value, status.phrase, headers, body)
