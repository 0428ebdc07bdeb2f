"""The robustness suite records what it survived in tests/artifacts/robustness.json (the
docs/sharing.md quotes it)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import REPO

RECORD = REPO / "tests" / "artifacts" / "robustness.json"


def record(name: str, outcome: dict[str, Any]) -> None:
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    data[name] = outcome
    RECORD.write_text(json.dumps(data, indent=2) + "\n")
