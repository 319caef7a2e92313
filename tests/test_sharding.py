"""Sharded builds merge into exactly the unsharded document; a missing shard publishes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lineage_core.cli.main import main
from lineage_core.config import load_settings
from lineage_core.synth import synth_repository


def normalized(path: Path) -> dict[str, object]:
    data = json.loads(path.read_bytes())
    data.pop("generated_at")
    return data


def sharded_equals_unsharded(repo: Path, config: Path, work: Path, counts: tuple[int, ...]) -> None:
    cache = str(work / "cache")  # shared: shards reuse what the full build analyzed (same results by key)
    full = work / "full.json"
    assert main(["build", str(repo), "--config", str(config), "--out", str(full), "--cache-dir", cache]) == 0
    for count in counts:
        parts = work / f"n{count}" / "part-{index}.json"
        for index in range(count):
            assert main(["build", str(repo), "--config", str(config), "--out", str(parts),
                         "--shard-index", str(index), "--shard-count", str(count), "--cache-dir", cache]) == 0
        merged = work / f"merged-{count}.json"
        assert main(["merge", str(parts), "--shard-count", str(count), "--config", str(config), "--out", str(merged)]) == 0
        assert normalized(merged) == normalized(full), f"{count} shards differ from the unsharded build"


def test_example_warehouse_shards(example_dir: Path, tmp_path: Path) -> None:
    config = example_dir / "lineage.yaml"
    settings = load_settings(config)
    sharded_equals_unsharded(Path(settings.base_dir), config, tmp_path, (1, 3, 7))


@pytest.mark.timeout(900)
def test_two_thousand_synthetic_files_shard(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    synth_repository(repo, tables=1600, files=2000)
    sharded_equals_unsharded(repo, repo / "lineage.yaml", tmp_path / "work", (1, 3, 7))


def test_shards_split_the_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    synth_repository(repo, tables=80, files=100, broken_every=0)
    seen: list[str] = []
    for index in range(3):
        out = tmp_path / f"p{index}.json"
        assert main(["build", str(repo), "--config", str(repo / "lineage.yaml"), "--out", str(out),
                     "--shard-index", str(index), "--shard-count", "3", "--no-cache"]) == 0
        seen += [q["id"] for q in json.loads(out.read_bytes())["queries"]]
    assert len(seen) == len(set(seen)) == 100


def test_shard_defaults_from_cloud_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    synth_repository(repo, tables=40, files=50, broken_every=0)
    monkeypatch.setenv("CLOUD_RUN_TASK_INDEX", "1")
    monkeypatch.setenv("CLOUD_RUN_TASK_COUNT", "4")
    out = tmp_path / "part-{index}.json"
    assert main(["build", str(repo), "--config", str(repo / "lineage.yaml"), "--out", str(out), "--no-cache"]) == 0
    assert json.loads((tmp_path / "part-1.json").read_bytes())["shard"] == {"index": 1, "count": 4}


def test_missing_or_duplicate_shard_publishes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    synth_repository(repo, tables=40, files=50, broken_every=0)
    config = str(repo / "lineage.yaml")
    for index in (0, 2):
        assert main(["build", str(repo), "--config", config, "--out", str(tmp_path / f"part-{index}.json"),
                     "--shard-index", str(index), "--shard-count", "3", "--no-cache"]) == 0
    merged = tmp_path / "merged.json"
    parts = [str(tmp_path / "part-0.json"), str(tmp_path / "part-2.json")]
    assert main(["merge", *parts, "--config", config, "--out", str(merged)]) == 1
    assert "missing shard(s) 1 of 3" in capsys.readouterr().err and not merged.exists()
    assert main(["merge", parts[0], parts[0], parts[1], "--config", config, "--out", str(merged)]) == 1
    assert "appears twice" in capsys.readouterr().err and not merged.exists()
    # the merge of a missing file is a clear error too
    assert main(["merge", str(tmp_path / "part-{index}.json"), "--shard-count", "3", "--config", config, "--out", str(merged)]) == 1
    assert "part-1.json" in capsys.readouterr().err and not merged.exists()


@pytest.mark.parametrize(("index", "count", "message"), [("3", "3", "outside 0..2"), ("0", "0", "at least 1"), ("1", None, "needs --shard-count")])
def test_bad_shard_arguments(tmp_path: Path, index: str, count: str | None, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["build", str(tmp_path), "--out", str(tmp_path / "x.json"), "--shard-index", index]
    if count is not None:
        args += ["--shard-count", count]
    assert main(args) == 2
    assert message in capsys.readouterr().err
