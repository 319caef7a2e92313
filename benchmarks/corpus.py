"""Where the development corpus of SQL lineage cases lives, for the tests and `make bench`.

The team's copy is ``../shared/corpus`` beside the checkout; a clean clone elsewhere (CI) uses
the snapshot in ``tests/fixtures/corpus``. ``LINEAGE_CORPUS`` names another folder explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "corpus"
SNAPSHOT = REPO / "tests" / "fixtures" / "corpus"


def corpus_dir() -> Path:
    explicit = os.environ.get("LINEAGE_CORPUS")
    if explicit:
        return Path(explicit)
    return SHARED if (SHARED / "sqllineage_tables.jsonl").exists() else SNAPSHOT
