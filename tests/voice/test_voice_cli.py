"""``lsavto voice``: configure (password sealed, never in the row), extension, status, dial."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lsnode.store.changes import Writer
from lsnode.store.db import open_store
from lsnode.sync.keys import load_secret

LSAVTO = str(Path(sys.executable).with_name("lsavto"))


def run(*args: str, stdin: str = "") -> dict:  # type: ignore[type-arg]
    proc = subprocess.run(
        [LSAVTO, *args, "--json"], capture_output=True, text=True, input=stdin, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_configure_status_extension_and_dial(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    subprocess.run([LSAVTO, "init", "--data", str(data)], check=True, capture_output=True)
    shown = run(
        "voice",
        "configure",
        "--data",
        str(data),
        "--server",
        "192.0.2.10",
        "--user",
        "dkhlystov",
        "--password-stdin",
        "--mode",
        "redirect",
        stdin="s3cret-Пароль\n",
    )
    assert shown["password"] == "***"
    assert load_secret(data, "sip-password") == "s3cret-Пароль".encode()
    db = open_store(data)
    try:
        row = db.execute("SELECT * FROM sip_lines").fetchone()
        assert "s3cret" not in json.dumps(row, ensure_ascii=False)
        Writer(db).insert("employees", {"id": "e1", "short_name": "Петухов В.П."})
    finally:
        db.close()
    status = run("voice", "status", "--data", str(data))
    assert status[0]["state"] == "off" and status[0]["mode"] == "redirect"
    assert run("voice", "extension", "--data", str(data), "Петухов В.П.", "1102")["extension"]
    req = run("voice", "dial", "--data", str(data), "--employee", "e1", "--phone", "89251112233")
    assert req["request_id"]
    assert run("voice", "calls", "--data", str(data)) == []
