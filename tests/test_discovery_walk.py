"""Walking SQL trees: glob semantics, and listings remembered by mtime never hide a change."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

import lineage_core.stat_memo as stat_memo
from lineage_core.discovery.walk import DirectoryListings, matches, walk_matching


def tree(root: Path, files: list[str]) -> Path:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("SELECT 1\n")
    return root


def age(root: Path, seconds: int = 3600) -> None:
    """Every directory's mtime in the past, as in a repository nobody touched lately."""
    for directory in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        old = directory.stat().st_mtime - seconds
        os.utime(directory, (old, old))


@pytest.mark.parametrize(
    ("rel", "patterns", "expected"),
    [
        ("a.sql", ["**/*.sql"], True),
        ("x/y/a.sql", ["**/*.sql"], True),
        ("x/a.SQL", ["**/*.sql"], False),
        ("x/a.sql", ["*.sql"], True),  # fnmatch: `*` crosses `/`
        ("x/a.sql", ["x/*.sql"], True),
        ("y/a.sql", ["x/*.sql"], False),
        ("scratch/a.sql", ["**/scratch/**"], True),  # `**/` also matches at the top
        ("x/scratch/a.sql", ["**/scratch/**"], True),
        ("a.sql", [], False),
    ],
)
def test_globs(rel: str, patterns: list[str], expected: bool) -> None:
    assert matches(rel, patterns) is expected


def test_walk_is_sorted_filtered_and_skips_symlinked_directories(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", ["b/2.sql", "a/1.sql", "a/notes.md", "a/skip/3.sql", "top.sql"])
    (root / "loop").symlink_to(root, target_is_directory=True)
    assert walk_matching(root, ["**/*.sql"], ["a/skip/**"]) == ["a/1.sql", "b/2.sql", "top.sql"]
    assert walk_matching(root, ["**/*"], ["**/*.sql"]) == ["a/notes.md"]


def test_listings_notice_every_change_of_a_directory(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", ["a/1.sql", "a/b/2.sql", "c/3.sql"])
    age(root)
    cache = str(tmp_path / "cache")

    def walk() -> list[str]:
        listings = DirectoryListings.for_walk(cache, str(root), ["**/*.sql"], [])
        found = walk_matching(root, ["**/*.sql"], [], listings=listings)
        listings.save()
        return found

    assert walk() == ["a/1.sql", "a/b/2.sql", "c/3.sql"]
    assert list((tmp_path / "cache").glob("listings-*.json")), "aged directories are remembered"
    assert walk() == ["a/1.sql", "a/b/2.sql", "c/3.sql"]
    (root / "a" / "b" / "new.sql").write_text("SELECT 2\n")  # added deep down
    (root / "c" / "3.sql").rename(root / "c" / "renamed.sql")
    (root / "a" / "1.sql").unlink()
    assert walk() == ["a/b/2.sql", "a/b/new.sql", "c/renamed.sql"]


def test_a_directory_changed_just_now_is_listed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree(tmp_path / "repo", ["a/1.sql"])
    listings = DirectoryListings(tmp_path / "listings.json")
    walk_matching(root, ["**/*.sql"], [], listings=listings)
    listings.save()  # the directories were made a moment ago: nothing is remembered
    saved = orjson.loads((tmp_path / "listings.json").read_bytes())
    assert saved["entries"] == {}
    assert saved["unsettled"] == DirectoryListings(tmp_path / "listings.json").memo.unsettled
    assert len(saved["unsettled"]) == 2  # the root and `a`: the next run knows they were too fresh
    monkeypatch.setattr(stat_memo, "RACY_NS", 0)
    listings = DirectoryListings(tmp_path / "listings.json")
    walk_matching(root, ["**/*.sql"], [], listings=listings)
    listings.save()
    saved = orjson.loads((tmp_path / "listings.json").read_bytes())
    assert len(saved["entries"]) == 2 and saved["unsettled"] == {}


@pytest.mark.parametrize("garbage", [b"", b"[", b'{"format": 1, "entries": {"": [1, "x", []]}}', b"\xff"])
def test_a_corrupt_listings_file_is_ignored(tmp_path: Path, garbage: bytes) -> None:
    root = tree(tmp_path / "repo", ["a/1.sql", "2.sql"])
    path = tmp_path / "listings.json"
    path.write_bytes(garbage)
    assert walk_matching(root, ["**/*.sql"], [], listings=DirectoryListings(path)) == ["2.sql", "a/1.sql"]


def test_a_build_uses_and_refreshes_the_listings(tmp_path: Path) -> None:
    from lineage_core.config import parse_settings
    from lineage_core.pipeline import BuildOptions, build

    root = tree(tmp_path / "repo", ["d/a.sql"])
    age(root)
    settings = parse_settings("dialect: bigquery\n").with_root(root)
    options = BuildOptions(cache_dir=str(tmp_path / "cache"), jobs=1, generated_at="t")
    first, _ = build(settings, options)
    (root / "d" / "b.sql").write_text("INSERT INTO p.d.t SELECT 1\n")
    second, _ = build(settings, options)
    assert [q.path for q in first.queries] == ["d/a.sql"]
    assert [q.path for q in second.queries] == ["d/a.sql", "d/b.sql"]
