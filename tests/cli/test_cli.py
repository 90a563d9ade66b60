"""The ``lsavto`` command as an administrator runs it: real processes, real data dirs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LSAVTO = str(Path(sys.executable).with_name("lsavto"))


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([LSAVTO, *args], capture_output=True, text=True, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def run_json(*args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(run(*args, "--json").stdout)


@pytest.fixture
def data(tmp_path: Path) -> str:
    d = str(tmp_path / "data")
    run("init", "--data", d)
    return d


COMMANDS = [
    [],
    ["init"],
    ["demo-data"],
    ["demo"],
    ["client"],
    ["client", "add"],
    ["client", "edit"],
    ["client", "delete"],
    ["client", "show"],
    ["search"],
    ["bench"],
    ["bench", "search"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "lsavto")
def test_every_command_has_help(command: list[str]) -> None:
    proc = run(*command, "--help")
    assert "usage: lsavto" in proc.stdout


def test_client_lifecycle(data: str) -> None:
    added = run_json(
        "client", "add", "--data", data, "--name", "Иванов Василий Алибабаевич",
        "--phone", "8(925)111-22-33", "--email", "ivanov@example.ru", "--consent-sms", "yes",
        "--plate", "Н433АР12", "--make", "Mercedes-Benz", "--model", "E 220 CDI", "--year", "2010",
    )  # fmt: skip
    cp_id = added["id"]
    assert added["short_name"] == "Иванов В.А."
    assert added["contacts"][0]["phone_e164"] == "+79251112233"
    assert added["cars"][0]["plate_key"] == "H433AP12"

    found = run_json("search", "--data", data, "H433AP12")
    assert [h["id"] for h in found["hits"]] == [cp_id]
    assert found["hits"][0]["matched"][0] == "exact_plate"
    assert run_json("search", "--data", data, "2233")["hits"][0]["id"] == cp_id

    edited = run_json(
        "client", "edit", "--data", data, cp_id, "--add-phone", "+7 495 123-45-67",
        "--consent-sms", "no",
    )  # fmt: skip
    assert edited["consent_sms"] == "no"
    assert {c["phone_e164"] for c in edited["contacts"]} >= {"+79251112233", "+74951234567"}
    shown = run_json("client", "show", "--data", data, cp_id)
    assert shown["id"] == cp_id and len(shown["contacts"]) == 3

    assert run_json("client", "delete", "--data", data, cp_id) == {"deleted": cp_id}
    assert run_json("search", "--data", data, "Иванов")["hits"] == []
    gone = run("client", "show", "--data", data, cp_id, ok=False)
    assert gone.returncode == 1 and "no client" in gone.stderr


def test_a_bad_phone_is_kept_with_a_warning(data: str) -> None:
    proc = run("client", "add", "--data", data, "--name", "Петров", "--phone", "8 925 11", "--json")
    assert "warning" in proc.stderr and "8 925 11" in proc.stderr
    assert json.loads(proc.stdout)["contacts"][0]["valid"] is False


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert proc.returncode == code, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lsavto: error: ") and text in lines[0]
    assert "Traceback" not in proc.stderr


def test_unknown_data_dir_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    one_line_error(run("search", "--data", str(missing), "Иванов", ok=False), 1, "does not exist")
    assert not missing.exists()
    one_line_error(run("client", "show", "--data", str(tmp_path), "1", ok=False), 1, "lsavto init")


@pytest.mark.parametrize(
    ("query", "text"), [("", "empty"), ("%%%", "nothing to search"), ("я" * 300, "too long")]
)
def test_malformed_query_is_a_one_line_error(data: str, query: str, text: str) -> None:
    one_line_error(run("search", "--data", data, query, ok=False), 2, text)


def test_bad_client_input_is_a_one_line_error(data: str) -> None:
    proc = run("client", "add", "--data", data, "--name", "Петров", "--vin", "WDD21204", ok=False)
    one_line_error(proc, 2, "VIN")
    assert run_json("search", "--data", data, "Петров")["hits"] == []


def test_default_data_dir_comes_from_the_environment(tmp_path: Path) -> None:
    env_dir = tmp_path / "from-env"
    proc = subprocess.run(
        [LSAVTO, "init", "--json"],
        capture_output=True,
        text=True,
        env={"LSAVTO_DATA": str(env_dir), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert json.loads(proc.stdout)["data"] == str(env_dir)
    assert (env_dir / "lsavto.db").is_file()


def test_demo_data_then_the_brochure_searches(tmp_path: Path) -> None:
    d = str(tmp_path / "demo")
    made = run_json("demo-data", "--data", d, "--clients", "300", "--seed", "7")
    assert made["rows"]["counterparties"] == 300
    hit = run_json("search", "--data", d, "н433ар")["hits"][0]
    assert hit["full_name"] == "Иванов Василий Алибабаевич"
    assert "H433AP12" in {c["plate_key"] for c in hit["cars"]}
    assert "ЗН 14029" in {doc["doc_no"] for doc in hit["open_documents"]}
    assert run_json("search", "--data", d, "8 925 111-22-33")["hits"][0]["id"] == hit["id"]
    assert hit["id"] in {h["id"] for h in run_json("search", "--data", d, "2233")["hits"]}
    vin = next(c["vin"] for c in hit["cars"] if c["vin"])
    assert hit["id"] in {h["id"] for h in run_json("search", "--data", d, vin[-6:])["hits"]}
    again = run("demo-data", "--data", d, "--clients", "10", ok=False)
    one_line_error(again, 2, "already holds 300 clients")
