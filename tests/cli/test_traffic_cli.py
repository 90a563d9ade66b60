"""``lsavto traffic`` and ``lsavto employee`` as a website integration and an administrator
use them: real processes on a real data dir."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_cli import LSAVTO, run, run_json


@pytest.fixture
def data(tmp_path: object) -> str:
    d = str(tmp_path) + "/data"  # type: ignore[operator]
    run("init", "--data", d)
    return d


@pytest.mark.parametrize(
    "command",
    [["traffic"], ["traffic", "add"], ["traffic", "list"], ["traffic", "purposes"],
     ["employee"], ["employee", "list"], ["employee", "set-pin"], ["employee", "presence"]],
    ids=" ".join,
)  # fmt: skip
def test_every_traffic_command_has_help(command: list[str]) -> None:
    assert "usage: lsavto" in run(*command, "--help").stdout


def test_a_new_store_has_the_brochures_purposes(data: str) -> None:
    purposes = json.loads(run("traffic", "purposes", "--data", data, "--json").stdout)
    names = {p["full_name"]: p for p in purposes}
    assert (
        names["Ремонт автомобиля"]["code"] == 2 and names["Ремонт автомобиля"]["direction"] == "in"
    )
    assert names["Покупка нового автомобиля"]["require_car"] == 1
    assert names["Покупка нового автомобиля"]["auto_ignore_days"] == 7


def test_an_internet_lead_creates_the_client_once_and_lists_as_pending(data: str) -> None:
    first = run_json(
        "traffic", "add", "--data", data, "--type", "internet", "--purpose", "22",
        "--phone", "+7 (916) 555-44-33", "--name", "Сидоров Пётр Ильич", "--note", "с сайта",
    )  # fmt: skip
    assert first["status"] == "new" and first["number"] is None
    assert first["warnings"] == ["new client «Сидоров Пётр Ильич»"]
    again = run_json(
        "traffic", "add", "--data", data, "--type", "call", "--purpose", "22",
        "--phone", "89165554433", "--name", "Сидоров П.",
    )  # fmt: skip
    assert again["client_id"] == first["client_id"] and again["warnings"] == []
    listed = run_json("traffic", "list", "--data", data, "--phone", "8 916 555 44 33")
    assert listed["total"] == 2
    assert {r["client_name"] for r in listed["rows"]} == {"Сидоров П.И."}
    assert {r["origin"] for r in listed["rows"]} == {"script"}
    internet = run_json("traffic", "list", "--data", data, "--type", "internet")
    assert [r["note"] for r in internet["rows"]] == ["с сайта"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "visit", "--purpose", "999", "--phone", "8916"], "no contact purpose"),
        (["--type", "visit", "--purpose", "1", "--phone", "89165554433"], "make/model"),
        (["--type", "visit", "--purpose", "22"], "phone"),
        (["--type", "visit", "--purpose", "22", "--phone", "8916", "--note", "a\x07"], "control"),
    ],
)
def test_bad_traffic_is_refused_with_one_line_and_writes_nothing(
    data: str, args: list[str], message: str
) -> None:
    proc = run("traffic", "add", "--data", data, *args, ok=False)
    assert proc.returncode in (1, 2) and message in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert run_json("traffic", "list", "--data", data)["total"] == 0


def test_employee_pin_and_presence(tmp_path: object) -> None:
    d = str(tmp_path) + "/demo"  # type: ignore[operator]
    run("demo-data", "--data", d, "--clients", "50")
    staff = json.loads(run("employee", "list", "--data", d, "--json").stdout)
    petukhov = next(e for e in staff if e["short_name"] == "Петухов В.П.")
    assert petukhov["has_pin"] and petukhov["extension"] == "1102"
    proc = subprocess.run(
        [LSAVTO, "employee", "set-pin", "--data", d, "1102"],
        input="12\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "PIN" in proc.stderr
    proc = subprocess.run(
        [LSAVTO, "employee", "set-pin", "--data", d, "Петухов"],
        input="5678\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    from lsnode.crm.staff import verify_pin
    from lsnode.store.db import open_store

    db = open_store(Path(d))
    stored = db.execute("SELECT pin_hash FROM employees WHERE extension = '1102'").fetchone()[0]
    db.close()
    assert verify_pin("5678", stored) and not verify_pin("1234", stored)
    run("employee", "presence", "--data", d, "1102", "busy", "--note", "На тест-драйве")
    staff = json.loads(run("employee", "list", "--data", d, "--json").stdout)
    petukhov = next(e for e in staff if e["short_name"] == "Петухов В.П.")
    assert (petukhov["presence"], petukhov["presence_note"]) == ("busy", "На тест-драйве")
