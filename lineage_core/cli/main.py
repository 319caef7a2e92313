"""Entry point of the `lineage` command.

Exit codes: 0 success, 1 findings or failures, 2 usage/configuration errors. Each command
module exposes ``register(subparsers)``; the handler is stored as ``func`` on the parser.
Modules import their heavy dependencies inside the handler so `lineage --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from lineage_core import __version__
from lineage_core.errors import ConfigError, LineageError, UsageError

COMMAND_MODULES = (
    "lineage_core.cli.build",
    "lineage_core.cli.inspect",
    "lineage_core.cli.check",
    "lineage_core.cli.demo",
    "lineage_core.cli.health",
    "lineage_core.cli.publishing",
    "lineage_core.cli.synth",
    "lineage_core.cli.interop",
)


# command → the module that registers it: `lineage build …` imports only what `build` needs
# (a warm build is over in a quarter of a second; importing every command would cost a third
# of that). A command missing here still works, through the full parser.
COMMAND_HOMES = {
    "build": "lineage_core.cli.build",
    "merge": "lineage_core.cli.build",
    "up": "lineage_core.cli.inspect",
    "down": "lineage_core.cli.inspect",
    "search": "lineage_core.cli.inspect",
    "sql": "lineage_core.cli.inspect",
    "check": "lineage_core.cli.check",
    "demo": "lineage_core.cli.demo",
    "health": "lineage_core.cli.health",
    "notify": "lineage_core.cli.health",
    "diff": "lineage_core.cli.publishing",
    "history": "lineage_core.cli.publishing",
    "synth": "lineage_core.cli.synth",
    "export": "lineage_core.cli.interop",
    "pr-diff": "lineage_core.cli.interop",
    "dbt-lineage": "lineage_core.cli.interop",
}


def make_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lineage",
        description="Table lineage from the SQL of a warehouse: build, inspect, publish, serve.",
    )
    parser.add_argument("--version", action="version", version=f"lineage-dashboard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command group not written yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    home = COMMAND_HOMES.get(words[0]) if words else None
    parser = make_parser((home,) if home else COMMAND_MODULES)
    args = parser.parse_args(words)
    try:
        code = args.func(args)
    except (ConfigError, UsageError) as exc:
        print(f"lineage {args.command}: {exc}", file=sys.stderr)
        return 2
    except LineageError as exc:
        print(f"lineage {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `lineage down t | head`: the reader left, that is not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


# Commands whose every write is closed before they return: they leave without the interpreter's
# final teardown, which frees a build's objects one by one (a tenth of a warm build).
FAST_EXIT = frozenset({"build"})


def run() -> None:
    """The ``lineage`` console command."""
    words = sys.argv[1:]
    code = main(words)
    if words and words[0] in FAST_EXIT:
        import atexit
        import contextlib

        atexit._run_exitfuncs()  # what a normal exit runs: pools joined, logs flushed
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
