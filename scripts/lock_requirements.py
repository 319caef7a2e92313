"""Write requirements.lock: exact pins of every distribution `[project].dependencies` needs.

The image installs requirements.lock in a cached layer, then the project with `--no-deps`, so
the lock must hold the whole runtime closure (and nothing from the test extras). The versions
come from the environment this script runs in, normally the development venv:

    .venv/bin/python scripts/lock_requirements.py            # rewrite requirements.lock
    .venv/bin/python scripts/lock_requirements.py --check    # exit 1 if it is out of date

Markers are evaluated for the image (Linux, x86_64, CPython 3.11); a direct dependency that
carries a marker in pyproject.toml keeps it in the lock.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import sys
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
IMAGE_ENVIRONMENT = {
    **default_environment(),
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "python_version": "3.11",
    "python_full_version": "3.11.0",
}
HEADER = """\
# Exact pins of everything [project].dependencies needs at run time, for the image
# (Linux, x86_64, CPython 3.11). The Dockerfile installs this file in a cached layer, then the
# project itself with --no-deps. Generated, do not edit by hand:
#   .venv/bin/python scripts/lock_requirements.py
"""


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**IMAGE_ENVIRONMENT, "extra": e}) for e in extras | {""})


def project_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[Requirement]:
    with pyproject.open("rb") as handle:
        return [Requirement(line) for line in tomllib.load(handle)["project"]["dependencies"]]


def closure(roots: list[Requirement]) -> dict[str, tuple[metadata.Distribution, Requirement | None]]:
    """Installed distributions reachable from ``roots``: name → (distribution, root requirement)."""
    found: dict[str, tuple[metadata.Distribution, Requirement | None]] = {}
    extras_seen: dict[str, set[str]] = {}
    pending: list[tuple[Requirement, Requirement | None]] = [(r, r) for r in roots if _applies(r, set())]
    missing: list[str] = []
    while pending:
        requirement, root = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in found and extras <= extras_seen[name]:
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            missing.append(str(requirement))
            continue
        if not requirement.specifier.contains(dist.version, prereleases=True):
            missing.append(f"{requirement} (installed: {dist.version})")
        extras_seen[name] = extras_seen.get(name, set()) | extras
        previous_root = found[name][1] if name in found else None
        found[name] = (dist, previous_root or root)
        for line in dist.requires or []:
            child = Requirement(line)
            if _applies(child, extras_seen[name]):
                pending.append((child, None))
    if missing:
        raise SystemExit(
            "not installed in this environment (run `make venv` first): " + ", ".join(sorted(missing))
        )
    return found


def render(roots: list[Requirement]) -> str:
    lines = []
    for _name, (dist, root) in sorted(closure(roots).items()):
        line = f"{dist.metadata['Name']}=={dist.version}"
        if root is not None and root.marker is not None:
            line += f" ; {root.marker}"
        lines.append(line)
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if requirements.lock is out of date")
    args = parser.parse_args(argv)
    text = render(project_requirements())
    if args.check:
        current = LOCK.read_text() if LOCK.exists() else ""
        if current != text:
            print("requirements.lock is out of date: run .venv/bin/python scripts/lock_requirements.py",
                  file=sys.stderr)
            return 1
        return 0
    LOCK.write_text(text)
    print(f"wrote {LOCK.name}: {text.count(chr(10)) - HEADER.count(chr(10))} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
