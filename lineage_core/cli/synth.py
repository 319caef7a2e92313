"""`lineage synth`: synthetic warehouses and documents for benchmarks and scale tests."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lineage_core.errors import UsageError


def register(sub: Any) -> None:
    p = sub.add_parser("synth", help="generate a synthetic Jinja/BigQuery warehouse (or a lineage document)")
    p.add_argument("--tables", type=int, default=1000, metavar="N", help="number of tables")
    p.add_argument("--files", type=int, default=None, metavar="M", help="number of SQL files (default: N)")
    p.add_argument("--out", required=True, metavar="PATH", help="directory for SQL (or a .json file with --document)")
    p.add_argument("--document", action="store_true", help="write a lineage document directly instead of SQL")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=run_synth)


def run_synth(args: argparse.Namespace) -> int:
    from lineage_core.synth import synth_document, synth_repository

    if args.tables < 1 or (args.files is not None and args.files < 1):
        raise UsageError("--tables and --files must be at least 1")
    if args.document:
        from lineage_core.artifact import dumps_document
        from lineage_core.store import write_bytes

        document = synth_document(args.tables, seed=args.seed)
        write_bytes(args.out, dumps_document(document))
        print(f"wrote a document with {len(document.nodes)} tables and {len(document.edges)} edges → {args.out}")
        return 0
    counts = synth_repository(Path(args.out), tables=args.tables, files=args.files or args.tables, seed=args.seed)
    print(
        f"wrote {counts['files']} SQL files over {counts['tables']} tables ({counts['broken']} deliberately broken) → {args.out}"
    )
    return 0
