"""`lineage build` republishes the last document only when nothing it was made of changed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import lineage_core.build_snapshot as build_snapshot
import lineage_core.stat_memo as stat_memo
from lineage_core.cli.main import main

UNCHANGED = "nothing changed since the last build"


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files a test wrote a moment ago are trusted by their signature at once."""
    monkeypatch.setattr(stat_memo, "RACY_NS", 0)


def make_repo(tmp_path: Path) -> tuple[Path, Path]:
    repo = tmp_path / "repo"
    for i in range(6):
        path = repo / f"d{i % 2}" / f"f{i}.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"CREATE OR REPLACE TABLE p.d.t{i} AS SELECT * FROM p.raw.s{i}\n")
    (repo / "d1" / "broken.sql").write_text("SELECT (((\n")
    config = tmp_path / "lineage.yaml"
    config.write_text("dialect: bigquery  # the warehouse\n")
    return repo, config


def build(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, repo: Path, config: Path, *extra: str
) -> tuple[int, str, dict[str, object]]:
    out = tmp_path / "out" / "lineage.json"
    code = main(
        ["build", str(repo), "--config", str(config), "--out", str(out), "--cache-dir", str(tmp_path / "cache"), *extra]
    )
    printed = capsys.readouterr().out
    return code, printed, json.loads(out.read_bytes())


def without_time(document: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in document.items() if k != "generated_at"}


def test_nothing_changed_republishes_the_same_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settled: None
) -> None:
    repo, config = make_repo(tmp_path)
    code, first_out, first = build(capsys, tmp_path, repo, config)
    assert code == 0 and UNCHANGED not in first_out
    code, again_out, again = build(capsys, tmp_path, repo, config)
    assert code == 0 and UNCHANGED in again_out
    assert without_time(again) == without_time(first)
    assert first_out.split("[")[0] == again_out.split("[")[0]  # the same summary line
    history = [p for p in (tmp_path / "out" / "history").rglob("*.json") if p.is_file()]
    assert len(history) == 2  # published again, kept again


def _edit(repo: Path, config: Path) -> None:
    (repo / "d0" / "f0.sql").write_text("CREATE OR REPLACE TABLE p.d.t0 AS SELECT * FROM p.raw.other\n")


def _same_size_edit(repo: Path, config: Path) -> None:
    path = repo / "d0" / "f0.sql"
    path.write_text(path.read_text().replace("s0", "s9"))


def _touch(repo: Path, config: Path) -> None:
    os.utime(repo / "d1" / "f1.sql", (1_700_000_000, 1_700_000_000))


def _add(repo: Path, config: Path) -> None:
    (repo / "d1" / "new.sql").write_text("CREATE TABLE p.d.new AS SELECT * FROM p.raw.s1\n")


def _add_folder(repo: Path, config: Path) -> None:
    (repo / "d0" / "deeper").mkdir()
    (repo / "d0" / "deeper" / "new.sql").write_text("CREATE TABLE p.d.deep AS SELECT * FROM p.raw.s1\n")


def _delete(repo: Path, config: Path) -> None:
    (repo / "d1" / "f3.sql").unlink()


def _config_comment(repo: Path, config: Path) -> None:
    config.write_text("dialect: bigquery  # the warehouse, renamed\n")


CHANGES: dict[str, Callable[[Path, Path], None]] = {
    "edit": _edit,
    "same-size edit": _same_size_edit,
    "touch": _touch,
    "new file": _add,
    "new folder": _add_folder,
    "deleted file": _delete,
    "config bytes": _config_comment,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_builds_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settled: None, change: str
) -> None:
    repo, config = make_repo(tmp_path)
    build(capsys, tmp_path, repo, config)
    CHANGES[change](repo, config)
    _, printed, document = build(capsys, tmp_path, repo, config)
    assert UNCHANGED not in printed
    fresh_out = tmp_path / "fresh.json"
    assert main(["build", str(repo), "--config", str(config), "--out", str(fresh_out), "--no-cache"]) == 0
    assert without_time(document) == without_time(json.loads(fresh_out.read_bytes()))


def test_other_arguments_environment_or_code_build_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, config = make_repo(tmp_path)
    build(capsys, tmp_path, repo, config)
    assert UNCHANGED in build(capsys, tmp_path, repo, config)[1]
    assert UNCHANGED not in build(capsys, tmp_path, repo, config, "--max-file-mb", "1")[1]
    assert UNCHANGED in build(capsys, tmp_path, repo, config, "--max-file-mb", "1")[1]
    monkeypatch.setenv("CLOUD_RUN_TASK_COUNT", "2")
    assert UNCHANGED not in build(capsys, tmp_path, repo, config, "--max-file-mb", "1")[1]
    monkeypatch.delenv("CLOUD_RUN_TASK_COUNT")
    build(capsys, tmp_path, repo, config)
    monkeypatch.setattr(build_snapshot, "code_fingerprint", lambda: "another checkout")
    assert UNCHANGED not in build(capsys, tmp_path, repo, config)[1]


@pytest.mark.parametrize("damage", ["document", "snapshot"])
def test_a_damaged_cache_is_never_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settled: None, damage: str
) -> None:
    repo, config = make_repo(tmp_path)
    _, _, first = build(capsys, tmp_path, repo, config)
    cache = tmp_path / "cache"
    if damage == "document":
        data = (cache / "last-document.json").read_bytes()
        (cache / "last-document.json").write_bytes(data.replace(b"p.raw.s1", b"p.raw.zz"))
    else:
        (cache / "last-build.json").write_bytes(b'{"format": 1, "key": ')
    _, printed, again = build(capsys, tmp_path, repo, config)
    assert UNCHANGED not in printed and without_time(again) == without_time(first)


def test_files_changed_just_now_are_not_trusted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo, config = make_repo(tmp_path)  # written a moment ago: within the racy window
    build(capsys, tmp_path, repo, config)
    assert not (tmp_path / "cache" / "last-build.json").exists()
    assert UNCHANGED not in build(capsys, tmp_path, repo, config)[1]


def test_strict_fails_again_when_republishing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settled: None
) -> None:
    repo, config = make_repo(tmp_path)
    args = ["build", str(repo), "--config", str(config), "--out", str(tmp_path / "o.json")]
    args += ["--cache-dir", str(tmp_path / "cache"), "--strict"]
    assert main(args) == 1
    first = capsys.readouterr()
    assert main(args) == 1
    again = capsys.readouterr()
    assert UNCHANGED in again.out and UNCHANGED not in first.out
    assert "broken.sql" in again.err and again.err == first.err  # the same errors, reported again


def test_column_builds_always_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], settled: None) -> None:
    repo, config = make_repo(tmp_path)
    build(capsys, tmp_path, repo, config, "--columns")
    assert UNCHANGED not in build(capsys, tmp_path, repo, config, "--columns")[1]


def test_a_changed_file_starts_one_worker_while_the_rest_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lineage_core.prestart as prestart

    repo, config = make_repo(tmp_path)
    build(capsys, tmp_path, repo, config, "--jobs", "2")
    started: list[object] = []
    real = prestart.early_worker

    def counting(jobs: int | None, path: str) -> object:
        started.append(jobs)
        assert path.endswith("f0.sql")
        return real(jobs, path)

    monkeypatch.setattr(prestart, "early_worker", counting)
    assert UNCHANGED in build(capsys, tmp_path, repo, config, "--jobs", "2")[1]
    assert started == []  # nothing changed: no worker
    _edit(repo, config)
    _, printed, document = build(capsys, tmp_path, repo, config, "--jobs", "2")
    assert started == [2] and "1 analyzed" in printed
    assert {"p.raw.other"} <= {n["id"] for n in document["nodes"]}  # type: ignore[index, union-attr]


def test_a_warm_build_imports_neither_the_parser_nor_the_pipeline(tmp_path: Path) -> None:
    """The republishing path must not pay for what it does not use."""
    import subprocess
    import sys
    import time

    repo, config = make_repo(tmp_path)
    time.sleep(2.1)  # files and folders older than the racy window: their signatures are trusted
    command = [
        sys.executable, "-X", "importtime", "-m", "lineage_core.cli.main", "build", str(repo),
        "--config", str(config), "--out", str(tmp_path / "o.json"), "--cache-dir", str(tmp_path / "cache"),
    ]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, check=True)
    assert UNCHANGED not in first.stdout and "| sqlglot" in first.stderr  # the check can see imports
    warm = subprocess.run(command, capture_output=True, text=True, check=True)
    assert UNCHANGED in warm.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in warm.stderr.splitlines() if "import time:" in line}
    for heavy in ("sqlglot", "jinja2", "lineage_core.config", "lineage_core.pipeline", "msgspec", "ruamel.yaml"):
        assert heavy not in imported, heavy
