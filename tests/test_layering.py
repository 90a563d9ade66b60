"""Dependencies point inward (CONVENTIONS.md §3), checked in a fresh interpreter per module."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import lsnode.crm

UI_AND_NETWORK = {"kivy", "websockets", "zeroconf", "pyVoIP", "apprise", "reportlab"}
STORAGE = {"sqlite3", "sqlite_utils", "_sqlite3"}

CRM_MODULES = [
    f"lsnode.crm.{m.name}" for m in pkgutil.iter_modules(lsnode.crm.__path__) if not m.ispkg
]


def _imported_by(module: str) -> set[str]:
    code = (
        "import json, sys\n"
        f"import {module}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_the_domain_has_modules_to_check() -> None:
    assert {"lsnode.crm.normalize", "lsnode.crm.search", "lsnode.crm.clients"} <= set(CRM_MODULES)


PURE_SYNC = ["lsnode.sync.hlc", "lsnode.sync.merge", "lsnode.sync.messages", "lsnode.sync.protocol"]


@pytest.mark.parametrize(
    "module", [*CRM_MODULES, *PURE_SYNC, "lsnode.store.ports", "lsnode.errors"]
)
def test_domain_imports_no_infrastructure(module: str) -> None:
    pulled = _imported_by(module)
    assert not pulled & (UI_AND_NETWORK | STORAGE), pulled & (UI_AND_NETWORK | STORAGE)


@pytest.mark.parametrize("module", ["lsnode.store.db", "lsnode.store.repos", "lsnode.cli"])
def test_store_and_cli_import_no_ui_or_network(module: str) -> None:
    pulled = _imported_by(module)
    assert not pulled & UI_AND_NETWORK
