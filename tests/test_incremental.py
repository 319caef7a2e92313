"""Incremental builds that patch the last document give exactly the document of a fresh build."""

from __future__ import annotations

import os
import random
from pathlib import Path

import orjson
import pytest

from lineage_core.cache import BuildCache
from lineage_core.config import parse_settings
from lineage_core.pipeline import BuildOptions, BuildStats, build_serialized
from lineage_core.stat_memo import FileStats, file_signature

STAMP = "2026-01-01T00:00:00+00:00"
CONFIG = "dialect: bigquery\nvars: {project: p}\n"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build(root: Path, cache: Path | None, yaml: str = CONFIG, **options: object) -> tuple[bytes, BuildStats]:
    settings = parse_settings(yaml).with_root(root)
    opts = BuildOptions(cache_dir=str(cache) if cache else None, generated_at=STAMP, **options)  # type: ignore[arg-type]
    data, _, stats = build_serialized(settings, opts)
    return data, stats


def primed(tmp_path: Path, yaml: str = CONFIG) -> tuple[Path, Path]:
    """Thirty files built twice with a cache: the last document is known to the memo."""
    root, cache = tmp_path / "sql", tmp_path / "cache"
    for i in range(30):
        write(root, f"f{i}.sql", f"INSERT INTO p.d.t{i} SELECT * FROM p.raw.s\n")
    build(root, cache, yaml)
    build(root, cache, yaml)
    return root, cache


def statement(rng: random.Random, index: int) -> str:
    kind = rng.randrange(7)
    src = f"`{{{{ project }}}}.raw.s{rng.randrange(12)}`"
    other = f"p.raw.s{rng.randrange(12)}"
    if kind == 0:
        return f"CREATE OR REPLACE VIEW p.mart.v{rng.randrange(4)} AS SELECT a FROM {src};\n"
    if kind == 1:
        return f"INSERT INTO p.mart.v{rng.randrange(4)} SELECT a FROM {other};\n"  # a view's name, written
    if kind == 2:
        return "SELECT (1 +\nFROM t WHERE (((\n"  # a parse error
    if kind == 3:
        return f"SELECT * FROM `{{{{ params.missing }}}}.x.y{index}`\n"  # a render error
    if kind == 4:
        return f"MERGE p.mart.t{rng.randrange(6)} t USING {src} s ON t.id = s.id WHEN MATCHED THEN DELETE;\n"
    return f"CREATE OR REPLACE TABLE p.mart.t{rng.randrange(6)} AS SELECT a, b FROM {src} JOIN {other} USING (a);\n"


def test_random_edits_patch_to_the_fresh_document(tmp_path: Path) -> None:
    rng = random.Random(7)
    root, cache = tmp_path / "sql", tmp_path / "cache"
    for i in range(40):
        write(root, f"d{i % 4}/f{i:02d}.sql", statement(rng, i))
    build(root, cache)
    build(root, cache)  # now the memo knows the last document
    patched_builds = 0
    for step in range(25):
        files = sorted(root.rglob("*.sql"))
        action = rng.randrange(4)
        if action == 0 and len(files) > 5:
            rng.choice(files).unlink()
        elif action == 1:
            write(root, f"d{rng.randrange(5)}/new{step}.sql", statement(rng, 100 + step))
        else:
            for victim in rng.sample(files, k=rng.choice((1, 1, 2, 5))):
                victim.write_text(statement(rng, step), encoding="utf-8")
        incremental, stats = build(root, cache)
        fresh, _ = build(root, None)
        assert incremental == fresh, f"step {step}"
        patched_builds += stats.patched
    assert patched_builds == 25


@pytest.mark.parametrize("options", [{"columns": True}, {"shard_index": 1, "shard_count": 3}, {"jobs": 1}])
def test_patched_with_other_options(tmp_path: Path, options: dict[str, object]) -> None:
    root, cache = tmp_path / "sql", tmp_path / "cache"
    for i in range(30):
        write(root, f"f{i:02d}.sql", f"INSERT INTO p.d.t{i % 7} (a, b) SELECT a, b FROM p.d.s{i}\n")
    build(root, cache, **options)
    build(root, cache, **options)
    for i in (3, 4, 5, 6):
        write(root, f"f{i:02d}.sql", f"INSERT INTO p.d.changed{i} (a) SELECT x AS a FROM p.d.s{i}\n")
    incremental, stats = build(root, cache, **options)
    assert stats.patched
    assert incremental == build(root, None, **options)[0]
    if options.get("columns"):
        assert b"p.d.changed3.a" in incremental


def test_a_view_kept_by_another_file_is_told_apart(tmp_path: Path) -> None:
    """Which node is a view comes from the queries that create it, not from the last nodes."""
    root, cache = tmp_path / "sql", tmp_path / "cache"
    write(root, "a_view.sql", "CREATE VIEW p.d.v AS SELECT * FROM p.d.s\n")
    write(root, "b_insert.sql", "INSERT INTO p.d.v SELECT * FROM p.d.s2\n")
    for i in range(30):
        write(root, f"other{i}.sql", f"INSERT INTO p.d.t{i} SELECT * FROM p.d.s\n")
    build(root, cache)
    build(root, cache)
    (root / "a_view.sql").unlink()
    incremental, stats = build(root, cache)
    assert stats.patched and incremental == build(root, None)[0]
    kinds = {n["id"]: n["kind"] for n in orjson.loads(incremental)["nodes"]}
    assert kinds["p.d.v"] == "table"


def test_settings_with_table_selectors_are_assembled_not_patched(tmp_path: Path) -> None:
    yaml = CONFIG + "tables:\n  - select: 'p.d.*'\n    owners: [team-a]\n"
    root, cache = primed(tmp_path, yaml)
    write(root, "f1.sql", "INSERT INTO p.d.other SELECT * FROM p.raw.s\n")
    incremental, stats = build(root, cache, yaml)
    assert not stats.patched and stats.analyzed == 1
    assert incremental == build(root, None, yaml)[0] and b"team-a" in incremental


def test_a_broken_last_document_is_assembled_again(tmp_path: Path) -> None:
    root, cache = primed(tmp_path)
    meta = orjson.loads((cache / "last-document.meta.json").read_bytes())
    document = orjson.loads((cache / "last-document.json").read_bytes())
    document["queries"] = document["queries"][1:]  # consistent digest, but a query is missing
    data = orjson.dumps(document)
    import hashlib

    meta["sha256"] = hashlib.sha256(data).hexdigest()
    (cache / "last-document.json").write_bytes(data)
    (cache / "last-document.meta.json").write_bytes(orjson.dumps(meta))
    write(root, "f2.sql", "INSERT INTO p.d.x SELECT * FROM p.raw.s\n")
    incremental, stats = build(root, cache)
    assert not stats.patched
    assert incremental == build(root, None)[0]


def test_changed_results_go_to_a_journal_and_are_kept(tmp_path: Path) -> None:
    root, cache = primed(tmp_path)
    cache_file = cache / "build-cache.json"
    before = cache_file.read_bytes()
    write(root, "f1.sql", "INSERT INTO p.d.one SELECT * FROM p.raw.s\n")
    _, stats = build(root, cache)
    assert stats.patched and stats.analyzed == 1
    assert cache_file.read_bytes() == before  # not rewritten for one file
    journal = cache / "build-cache.journal"
    assert len(journal.read_bytes().splitlines()) == 1
    # without the last document every result still comes from the cache, the new one too
    (cache / "last-document.meta.json").unlink()
    _, stats = build(root, cache)
    assert not stats.patched and stats.analyzed == 0 and stats.cached == 30
    assert not journal.exists()  # the full save folded it in


def test_a_torn_journal_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "build-cache.json"
    cache = BuildCache(path)
    journal = path.with_suffix(".journal")
    journal.write_bytes(b'[1, "good", {"file_id": "x"}]\n[1, "torn", {"file_id": "y"\n[2, "other-format", {}]\n')
    assert cache.has("good") and not cache.has("torn") and not cache.has("other-format")
    assert cache.get("good", "x", "uri") is None  # an entry that does not decode is never served


def test_changed_files_are_counted_before_the_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lineage_core.stat_memo as stat_memo

    monkeypatch.setattr(stat_memo, "RACY_NS", 0)
    root = tmp_path / "sql"
    for name in ("a", "b", "c", "d"):
        write(root, f"{name}.sql", "SELECT 1\n")
    stats = FileStats(tmp_path / "file-stats.json")
    for name in ("a", "b", "c", "d"):
        path = str(root / f"{name}.sql")
        stats.record(path, file_signature(path), "digest")
    stats.save()
    write(root, "a.sql", "SELECT 2 -- longer\n")
    (root / "b.sql").unlink()
    later = FileStats(tmp_path / "file-stats.json")
    assert later.changed_since_last_run() == 2
    # the signatures taken are what the plan uses (one stat per file)
    assert later.signature(str(root / "c.sql")) == file_signature(str(root / "c.sql"))
    os.utime(root / "d.sql", (1, 1))
    assert later.signature(str(root / "d.sql")) != file_signature(str(root / "d.sql"))  # taken before


def test_a_full_journal_is_folded_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, cache = primed(tmp_path)
    write(root, "f1.sql", "INSERT INTO p.d.one SELECT * FROM p.raw.s\n")
    build(root, cache)
    journal = cache / "build-cache.journal"
    assert journal.exists()
    monkeypatch.setattr(BuildCache, "JOURNAL_LIMIT", 0)
    write(root, "f2.sql", "INSERT INTO p.d.two SELECT * FROM p.raw.s\n")
    _, stats = build(root, cache)
    assert stats.patched and not journal.exists()
    entries = orjson.loads((cache / "build-cache.json").read_bytes())["entries"]
    assert len(entries) == 30  # every file's current entry, none of the replaced ones


def test_a_worker_started_for_one_change_gives_way_to_a_full_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One file changed, but a new sqlglot changes every key: the single early worker is
    stopped and all of them analyze."""
    import lineage_core.cache as cache_module
    import lineage_core.prestart as prestart_module
    import lineage_core.stat_memo as stat_memo

    monkeypatch.setattr(stat_memo, "RACY_NS", 0)
    root, cache = tmp_path / "sql", tmp_path / "cache"
    for i in range(40):
        write(root, f"f{i:02d}.sql", f"INSERT INTO p.d.t{i} SELECT * FROM p.raw.s{i}\n")
    build(root, cache, jobs=2)
    build(root, cache, jobs=2)
    started: list[int] = []
    real_pool = prestart_module.WorkerPool

    def counting_pool(jobs: int, jinja: bool = True) -> object:
        started.append(jobs)
        return real_pool(jobs, jinja=jinja)

    monkeypatch.setattr(prestart_module, "WorkerPool", counting_pool)
    monkeypatch.setattr(cache_module, "sqlglot_version", lambda: "0.0.1")
    write(root, "f07.sql", "INSERT INTO p.d.seven SELECT * FROM p.raw.s7\n")
    incremental, stats = build(root, cache, jobs=2)
    assert started == [1]  # the early worker, for the one file whose signature changed
    assert stats.analyzed == 40 and incremental == build(root, None, jobs=2)[0]


def test_files_too_fresh_to_trust_are_read_again_by_the_probe(tmp_path: Path) -> None:
    """Written a moment ago, their signatures are not trusted: the probe compares their bytes."""
    import hashlib

    root = tmp_path / "sql"
    for name in ("a", "b", "c"):
        write(root, f"{name}.sql", f"SELECT '{name}'\n")
    stats = FileStats(tmp_path / "file-stats.json")
    for name in ("a", "b", "c"):
        path = str(root / f"{name}.sql")
        stats.record(path, file_signature(path), hashlib.sha256((root / f"{name}.sql").read_bytes()).hexdigest())
    stats.save()
    later = FileStats(tmp_path / "file-stats.json")
    assert len(later.memo.unsettled) == 3 and not later.memo.known()
    calls: list[int] = []
    assert later.changed_since_last_run(on_first=lambda path: calls.append(1)) == 0 and calls == []
    write(root, "b.sql", "SELECT 'B'\n")  # same size, other bytes, maybe the same mtime tick
    again = FileStats(tmp_path / "file-stats.json")
    assert again.changed_since_last_run(on_first=lambda path: calls.append(1)) == 1 and calls == [1]


def test_a_worker_started_without_jinja_still_renders_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early worker skips importing Jinja when the first changed file is plain SQL; a
    template changed in the same build is rendered all the same."""
    import lineage_core.stat_memo as stat_memo

    monkeypatch.setattr(stat_memo, "RACY_NS", 0)
    root, cache = primed(tmp_path)
    write(root, "f0.sql", "INSERT INTO p.d.plain SELECT * FROM p.raw.s\n")  # first in the memo
    write(root, "f9.sql", "INSERT INTO `{{ project }}.d.templated` SELECT * FROM p.raw.s\n")
    incremental, stats = build(root, cache, jobs=2)
    assert stats.patched and stats.analyzed == 2
    assert b'"p.d.templated"' in incremental and incremental == build(root, None, jobs=2)[0]


@pytest.mark.parametrize(
    "garbage",
    [b'{"format": 1, "entries": {}, "unsettled": {"/nowhere.sql": "x"}}', b'{"format": 1, "entries": {}, "unsettled": 3}'],
)
def test_a_garbled_stat_memo_counts_as_changed_never_crashes(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / "file-stats.json"
    path.write_bytes(garbage)
    changed = FileStats(path).changed_since_last_run()
    assert changed == (1 if b'"/nowhere.sql"' in garbage else 0)
