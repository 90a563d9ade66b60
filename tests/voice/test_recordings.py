"""A paired node fetches a call's recording from a real hub over its TLS port (127.0.0.1); an
unpaired or revoked node, a wrong id or a path trick gets nothing."""

from __future__ import annotations

import asyncio
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub import recordings as served
from hub.server import Hub
from lsnode.ids import uuid7
from lsnode.sync.pairing import NodeIdentity
from lsnode.voice.recordings import RecordingError, fetch_recording, recording_of

FRAMES = 8000 * 3  # 3 s of stereo 8-bit: 48 kB, several chunks at the test's chunk size


class RunningHub:
    """``hub.server.Hub`` on its own event loop thread, on 127.0.0.1 and a free port."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.loop = asyncio.new_event_loop()
        self.hub: Hub | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> Hub:
        self.thread.start()
        self.hub = Hub(self.data)
        asyncio.run_coroutine_threadsafe(self.hub.start(), self.loop).result(30)
        return self.hub

    def run(self, fn: Any) -> Any:
        """Run ``fn()`` on the hub's loop thread (the store's one writer)."""

        async def job() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(job(), self.loop).result(30)

    def stop(self) -> None:
        if self.hub is None:
            return
        hub, self.hub = self.hub, None
        asyncio.run_coroutine_threadsafe(hub.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    running = RunningHub(tmp_path / "hub")
    running.start()
    yield running
    running.stop()


def pair(hub: RunningHub, name: str) -> NodeIdentity:
    h = hub.hub
    assert h is not None
    cred = h.trust.redeem(h.trust.issue_code().code, name)
    return NodeIdentity(
        hub_address=f"127.0.0.1:{h.port}",
        hub_fingerprint=h.certificate.fingerprint,
        hub_id=h.store.hub_id,
        node_id=cred.node_id,
        token=cred.token,
    )


def raw_get(address: str, identity: NodeIdentity | None, path: str) -> tuple[int, bytes]:
    """One HTTPS GET to the hub, as anything on the LAN could send it."""
    import http.client

    from lsnode.sync.keys import client_ssl_context

    host, _, port = address.rpartition(":")
    conn = http.client.HTTPSConnection(host, int(port), timeout=10, context=client_ssl_context())
    headers = {"Authorization": f"Bearer {identity.node_id}:{identity.token}"} if identity else {}
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def record_a_call(hub: RunningHub) -> tuple[str, bytes]:
    """A finished call with a stereo WAV where the line writes them; returns (id, file bytes)."""
    h = hub.hub
    assert h is not None
    call_id = uuid7()
    rel = f"recordings/2026/12/03/{call_id}.wav"
    path = h.data_dir / rel
    path.parent.mkdir(parents=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(i % 251 for i in range(2 * FRAMES)))
    hub.run(
        lambda: h.store.writer.insert(
            "calls",
            {
                "id": call_id,
                "direction": "in",
                "state": "ended",
                "started_at": "2026-12-03T10:00:00Z",
                "recording": rel,
                "talk_s": 3,
            },
        )
    )
    return call_id, path.read_bytes()


def test_a_paired_node_gets_the_recording_in_chunks_and_caches_it(
    tmp_path: Path, hub: RunningHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(served, "CHUNK", 16 * 1024)  # several round trips for 48 kB
    monkeypatch.setattr("lsnode.voice.recordings.CHUNK", 16 * 1024)
    call_id, content = record_a_call(hub)
    node = tmp_path / "node"
    identity = pair(hub, "Ресепшн")
    got = fetch_recording(node, identity, call_id)
    assert got == node / "recordings-cache" / f"{call_id}.wav"
    assert got.read_bytes() == content
    with wave.open(str(got)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (2, 8000, FRAMES)
    assert not list(got.parent.glob("*.part"))
    hub.stop()  # cached: no hub needed any more
    assert fetch_recording(node, identity, call_id) == got


def test_an_interrupted_download_continues_where_it_stopped(
    tmp_path: Path, hub: RunningHub
) -> None:
    call_id, content = record_a_call(hub)
    node = tmp_path / "node"
    part = node / "recordings-cache" / f"{call_id}.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(content[:1000])
    got = fetch_recording(node, pair(hub, "Планшет"), call_id)
    assert got.read_bytes() == content


def test_unpaired_revoked_and_forged_nodes_and_wrong_ids_get_nothing(
    tmp_path: Path, hub: RunningHub
) -> None:
    h = hub.hub
    assert h is not None
    call_id, _ = record_a_call(hub)
    with pytest.raises(RecordingError) as no_identity:
        fetch_recording(tmp_path / "a", None, call_id)
    assert no_identity.value.reason == "not_paired"

    good = pair(hub, "Планшет")
    forged = NodeIdentity(
        good.hub_address, good.hub_fingerprint, good.hub_id, good.node_id, "x" * 43
    )
    with pytest.raises(RecordingError) as wrong_token:
        fetch_recording(tmp_path / "b", forged, call_id)
    assert wrong_token.value.reason == "denied"

    revoked = pair(hub, "Старый планшет")
    h.trust.revoke(revoked.node_id)
    with pytest.raises(RecordingError) as gone:
        fetch_recording(tmp_path / "c", revoked, call_id)
    assert gone.value.reason == "denied"

    for wrong in (uuid7(), "../../lsavto.db", "..%2F..%2Flsavto.db"):
        with pytest.raises(RecordingError) as missing:
            fetch_recording(tmp_path / "d", good, wrong)
        assert missing.value.reason == "missing"
    at = good.hub_address
    for path in (
        "/voice/recordings/../../lsavto.db",
        "/voice/recordings/%2e%2e%2flsavto.db",
        "/voice/../lsavto.db",
        f"/voice/recordings/{call_id}/../../../lsavto.db",
    ):
        assert raw_get(at, good, path)[0] == 404, path
        assert raw_get(at, None, path)[0] == 401, path
    assert raw_get(at, None, f"/voice/recordings/{call_id}")[0] == 401
    assert raw_get(at, good, f"/voice/recordings/{call_id}")[0] == 200
    for folder in ("a", "b", "c", "d"):
        cache = tmp_path / folder / "recordings-cache"
        assert not cache.exists() or not any(cache.iterdir())

    other = pair(hub, "Чужой хаб?")
    pinned_elsewhere = NodeIdentity(
        other.hub_address, "ab" * 32, other.hub_id, other.node_id, other.token
    )
    with pytest.raises(RecordingError) as untrusted:
        fetch_recording(tmp_path / "e", pinned_elsewhere, call_id)
    assert untrusted.value.reason == "untrusted"


def test_the_hub_never_serves_a_file_outside_its_recordings(
    tmp_path: Path, hub: RunningHub
) -> None:
    """Even a ``calls`` row that points elsewhere (a hostile replicated write) gets a 404."""
    h = hub.hub
    assert h is not None
    bad = uuid7()
    hub.run(
        lambda: h.store.writer.insert(
            "calls",
            {
                "id": bad,
                "direction": "in",
                "state": "ended",
                "started_at": "2026-12-03T10:00:00Z",
                "recording": "recordings/../lsavto.db",
            },
        )
    )
    assert served.recording_path(h.db, h.data_dir, bad) is None
    with pytest.raises(RecordingError) as refused:
        fetch_recording(tmp_path / "n", pair(hub, "Планшет"), bad)
    assert refused.value.reason == "missing"


def test_a_node_finds_the_newest_recording_of_a_traffic_or_a_call(tmp_path: Path) -> None:
    from lsnode.store.changes import Writer
    from lsnode.store.db import init_store

    db = init_store(tmp_path / "n")
    writer = Writer(db)
    tid = uuid7()
    for at, rec in (
        ("2026-12-03T10:00:00Z", "recordings/a.wav"),
        ("2026-12-03T11:00:00Z", "recordings/b.wav"),
        ("2026-12-03T12:00:00Z", ""),
    ):
        writer.insert(
            "calls",
            {
                "direction": "in",
                "state": "ended",
                "started_at": at,
                "recording": rec,
                "traffic_id": tid,
            },
        )
    found = recording_of(db, tid)
    assert found is not None and found["recording"] == "recordings/b.wav"
    assert recording_of(db, found["id"]) == found
    assert recording_of(db, uuid7()) is None
    db.close()
