"""Runs Stairlight 0.9.2 inside the bench venv and reports how long it took, as one JSON line.

Usage (bench venv python, isolated mode):
    python -I stairlight_adapter.py CONFIG_DIR OUT_JSON

This does what ``stairlight --config CONFIG_DIR --save OUT_JSON --quiet`` does — build the whole
dependency map from ``stairlight.yaml`` + the mapping file and save it as JSON — through
Stairlight's public Python API, and times it from inside the process. It imports only the
standard library and stairlight, never the project (the project is not installed in that venv).
Counts of the saved map are reported after the clock stops, to check that the run mapped what
it was given.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    config_dir, out = argv[1], argv[2]
    started = time.perf_counter()
    from src.stairlight.stairlight import StairLight  # type: ignore[import-not-found]  # the wheel's path

    imported = time.perf_counter()
    stairlight = StairLight(config_dir=config_dir, save_file=out)
    stairlight.create_map()
    finished = time.perf_counter()

    with open(out, encoding="utf-8") as f:
        mapped = json.load(f)
    edges = sum(len(upstairs) for upstairs in mapped.values())
    print(
        json.dumps(
            {
                "import_s": imported - started,
                "map_s": finished - imported,
                "targets": len(mapped),
                "edges": edges,
                "unmapped_files": len(stairlight.unmapped),
                "not_found": len(stairlight.not_found),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
