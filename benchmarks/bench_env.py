"""The separate venv that `make bench` measures its baselines in.

Baselines must not run on the main venv: there sqlglot is accelerated by the compiled
``sqlglotc`` and the project's own dependencies are installed. ``bench-venv/`` (git-ignored, at
the repository root) holds exactly:

- Python 3.11, ``sqlglot==30.30.0`` as pure Python (``sqlglotc`` is removed if a resolver ever
  pulls it in, and the venv is rejected unless ``sqlglot.parser`` is a ``.py`` module),
- ``Jinja2==3.1.6``,
- ``stairlight==0.9.2`` from PyPI, the incumbent tool. Should it ever not install beside
  sqlglot's pin, it gets its own venv ``bench-venv-stairlight/`` instead.

Creation is idempotent: a stamp file records what was installed and verified; a venv whose stamp
does not match the requirements below is rebuilt. Functions return the path of a venv's python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH_VENV = REPO / "bench-venv"
STAIRLIGHT_VENV = REPO / "bench-venv-stairlight"
STAMP_NAME = ".bench-stamp.json"

PYTHON_VERSION = (3, 11)
PARSE_REQUIREMENTS = ("sqlglot==30.30.0", "Jinja2==3.1.6")
STAIRLIGHT_REQUIREMENT = "stairlight==0.9.2"
FORBIDDEN = ("sqlglotc",)  # the compiled sqlglot: the parse floor is pure Python by definition

# Run inside a venv to prove what it holds; prints one JSON object.
_PROBE = r"""
import importlib.util, json, sys
info = {"python": list(sys.version_info[:2])}
for name in ("sqlglot", "jinja2"):
    try:
        module = __import__(name)
        info[name] = getattr(module, "__version__", "?")
    except ImportError:
        info[name] = None
if info["sqlglot"]:
    import sqlglot.parser
    info["sqlglot_parser_file"] = sqlglot.parser.__file__
info["sqlglotc"] = importlib.util.find_spec("sqlglotc") is not None
try:
    from importlib.metadata import version
    info["stairlight"] = version("stairlight")
    import src.stairlight.stairlight  # noqa: F401  (the wheel's real import path)
except Exception as exc:
    info["stairlight"] = None
    info["stairlight_error"] = repr(exc)
print(json.dumps(info))
"""


class BenchEnvError(RuntimeError):
    """The bench venv could not be made (the message says which step failed and why)."""


def clean_env() -> dict[str, str]:
    """Environment for bench-venv subprocesses: nothing of the main venv or the repo leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def _base_python() -> str:
    """A Python 3.11 interpreter to create venvs from."""
    if sys.version_info[:2] == PYTHON_VERSION:
        return sys.executable
    for name in ("python3.11",):
        found = shutil.which(name)
        if found:
            return found
    raise BenchEnvError("Python 3.11 is required for the bench venv (python3.11 not found on PATH)")


def _run(cmd: list[str], what: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=clean_env())
    if proc.returncode != 0:
        raise BenchEnvError(f"{what} failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-3000:]}")
    return proc.stdout


def probe(python: Path) -> dict[str, object]:
    """What a venv's python actually imports (versions, pure-Python sqlglot, stairlight)."""
    out = _run([str(python), "-I", "-c", _PROBE], f"probing {python}")
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def _spec(requirements: tuple[str, ...]) -> dict[str, object]:
    return {"python": list(PYTHON_VERSION), "requirements": list(requirements), "forbidden": list(FORBIDDEN)}


def _stamp_ok(venv: Path, spec: dict[str, object]) -> bool:
    stamp = venv / STAMP_NAME
    if not stamp.is_file() or not _python_of(venv).exists():
        return False
    try:
        return bool(json.loads(stamp.read_text()).get("spec") == spec)
    except (OSError, ValueError):
        return False


def _verify(python: Path, requirements: tuple[str, ...]) -> dict[str, object]:
    info = probe(python)
    if info["python"] != list(PYTHON_VERSION):
        raise BenchEnvError(f"{python} is Python {info['python']}, not {PYTHON_VERSION}")
    wanted = dict(r.split("==") for r in requirements)
    for name, version in wanted.items():
        got = info.get(name.lower())
        if got != version:
            raise BenchEnvError(f"{python}: {name} is {got!r}, expected {version}")
    if "sqlglot" in wanted:
        if info["sqlglotc"]:
            raise BenchEnvError(f"{python}: sqlglotc is importable; the parse floor must be pure Python")
        parser_file = str(info.get("sqlglot_parser_file"))
        if not parser_file.endswith(".py"):
            raise BenchEnvError(f"{python}: sqlglot.parser is {parser_file}, not a pure-Python .py module")
    return info


def _create(venv: Path, requirements: tuple[str, ...]) -> dict[str, object]:
    """(Re)create ``venv`` with exactly ``requirements``; verify; write the stamp last."""
    spec = _spec(requirements)
    if venv.exists():
        shutil.rmtree(venv)
    print(f"  creating {venv.name}/ ({', '.join(requirements)}) …", flush=True)
    _run([_base_python(), "-m", "venv", str(venv)], f"creating {venv}")
    python = _python_of(venv)
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
        f"pip install {' '.join(requirements)} into {venv.name}",
    )
    installed = _run([str(python), "-m", "pip", "list", "--format=json"], "pip list")
    names = {p["name"].lower() for p in json.loads(installed)}
    for name in FORBIDDEN:
        if name in names:  # a resolver pulled the compiled build in: the floor must stay pure
            _run([str(python), "-m", "pip", "uninstall", "--yes", name], f"uninstalling {name}")
    info = _verify(python, requirements)
    (venv / STAMP_NAME).write_text(json.dumps({"spec": spec, "verified": info}, indent=2) + "\n")
    return info


def _ensure(venv: Path, requirements: tuple[str, ...]) -> Path:
    if not _stamp_ok(venv, _spec(requirements)):
        _create(venv, requirements)
    return _python_of(venv)


def _stairlight_layout() -> str:
    """Where stairlight lives: "together" (in bench-venv) or "separate" (bench-venv-stairlight)."""
    together = (*PARSE_REQUIREMENTS, STAIRLIGHT_REQUIREMENT)
    if _stamp_ok(BENCH_VENV, _spec(together)):
        return "together"
    if _stamp_ok(BENCH_VENV, _spec(PARSE_REQUIREMENTS)) and _stamp_ok(
        STAIRLIGHT_VENV, _spec((STAIRLIGHT_REQUIREMENT,))
    ):
        return "separate"
    try:
        _create(BENCH_VENV, together)
        return "together"
    except BenchEnvError as exc:  # e.g. a dependency conflict with sqlglot's pin
        print(f"  stairlight does not install beside {PARSE_REQUIREMENTS}: {exc}\n  → its own venv", flush=True)
        _create(BENCH_VENV, PARSE_REQUIREMENTS)
        _create(STAIRLIGHT_VENV, (STAIRLIGHT_REQUIREMENT,))
        return "separate"


def parse_python() -> Path:
    """Python of the bench venv: pure-Python sqlglot 30.30.0 and Jinja2 3.1.6 (creates it if needed)."""
    _stairlight_layout()
    return _python_of(BENCH_VENV)


def stairlight_python() -> Path:
    """Python of the venv that holds stairlight 0.9.2: bench-venv, or bench-venv-stairlight."""
    layout = _stairlight_layout()
    return _python_of(BENCH_VENV if layout == "together" else STAIRLIGHT_VENV)


def ensure() -> dict[str, Path]:
    """Make every bench venv; return {"parse": python, "stairlight": python}."""
    return {"parse": parse_python(), "stairlight": stairlight_python()}


if __name__ == "__main__":
    for role, path in ensure().items():
        print(f"{role}: {path}  {probe(path)}")
