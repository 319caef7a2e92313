"""`lineage demo`: build the bundled example warehouse, seed its DuckDB, evaluate health, serve."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lineage_core.errors import UsageError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = PROJECT_ROOT / "examples" / "warehouse"


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="build the bundled example warehouse, check its health and start the dashboard")
    p.add_argument(
        "--out-dir", default="build/demo", metavar="DIR", help="where lineage.json, health.json and the DuckDB go"
    )
    p.add_argument("--no-serve", action="store_true", help="do everything but starting the dashboard")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="localhost", help="address the dashboard listens on")
    p.set_defaults(func=run_demo)


def _as_shown(path: Path, base: Path) -> Path:
    """``path`` relative to ``base`` when it lies below it: the document and the pages then
    show `examples/warehouse/sql`, not where this checkout happens to be."""
    try:
        return path.resolve().relative_to(base.resolve())
    except ValueError:
        return path.resolve()


def prepare(out_dir: Path) -> dict[str, Path]:
    """Build the example and evaluate its health; return the paths written."""
    from lineage_core.cli.build import publish_document, summary
    from lineage_core.config import load_settings
    from lineage_core.pipeline import BuildOptions, build

    config = _as_shown(EXAMPLE / "lineage.yaml", Path.cwd())
    if not config.is_file():
        raise UsageError(f"the example warehouse is missing ({config}); is this a full checkout?")
    settings = load_settings(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    document, _ = build(settings, BuildOptions(cache_dir=str(out_dir / "cache")))
    lineage_path = out_dir / "lineage.json"
    publish_document(document, str(lineage_path), keep=settings.history_keep, force=True, expected=None)
    print(f"lineage: {summary(document)} → {lineage_path}")
    paths = {"lineage": lineage_path}
    try:
        from lineage_core.health.demo import prepare_demo
    except ImportError:  # the health part is optional for a bare build
        return paths
    health_path = prepare_demo(out_dir, str(lineage_path), settings)
    paths["health"] = health_path
    paths["duckdb"] = out_dir / "warehouse.duckdb"
    print(f"health: {health_path}")
    return paths


def run_demo(args: argparse.Namespace) -> int:
    out_dir = Path(args.out_dir)
    paths = prepare(out_dir)
    for name, path in paths.items():
        print(f"{name:8} {path}")
    if args.no_serve:
        return 0
    # the app runs in the project root: URIs relative to it when they can be
    env = dict(os.environ, LINEAGE_URI=str(_as_shown(paths["lineage"], PROJECT_ROOT)))
    if "health" in paths:
        env["HEALTH_URI"] = str(_as_shown(paths["health"], PROJECT_ROOT))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "app.py"),
        "--server.port",
        str(args.port),
        "--server.address",
        args.address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    print(f"dashboard: http://{args.address}:{args.port}  (Ctrl+C to stop)", flush=True)
    try:
        return subprocess.call(command, env=env, cwd=PROJECT_ROOT)
    except KeyboardInterrupt:
        return 0
