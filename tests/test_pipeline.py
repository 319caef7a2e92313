"""The build pipeline: bad input never stops a batch, parallel = serial, the cache is exact."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from lineage_core.artifact import dumps_document, loads_document
from lineage_core.cli.main import main
from lineage_core.config import parse_settings
from lineage_core.models import LineageDocument
from lineage_core.pipeline import BuildOptions, build

GOOD = "CREATE OR REPLACE TABLE `p.marts.orders` AS SELECT * FROM `p.staging.orders` o JOIN p.staging.customers c USING (id);\n"


def repo(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "sql"
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def run(root: Path, yaml: str = "", **options: object) -> LineageDocument:
    settings = parse_settings(yaml or "dialect: bigquery\n").with_root(root)
    opts = BuildOptions(cache_dir=None, generated_at="2026-01-01T00:00:00+00:00")
    document, _ = build(settings, replace(opts, **options))  # type: ignore[arg-type]
    return document


def errors_by_path(document: LineageDocument) -> dict[str, tuple[str, int | None, str]]:
    return {e.path: (e.kind, e.line, e.message) for e in document.errors}


def test_one_bad_file_never_stops_the_build(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "good.sql": GOOD,
            "broken.sql": "SELECT (1 +\nFROM t WHERE (((\n",
            "undefined.sql": "SELECT 1\nFROM `{{ params.project }}.d.{{ params.nope }}`\n",
            "binary.sql": b"\x00\x01\x02SELECT",
            "latin1.sql": "SELECT 'caf\xe9' FROM t\n".encode("latin-1"),
            "empty.sql": "",
            "huge.sql": "-- padding\n" + ("SELECT 1 AS x UNION ALL\n" * 220_000) + "SELECT 1;\n",
        },
    )
    document = run(root, "vars: {params: {project: p}}\n")
    errors = errors_by_path(document)
    assert {q.path for q in document.queries} == {
        "good.sql",
        "broken.sql",
        "undefined.sql",
        "binary.sql",
        "latin1.sql",
        "empty.sql",
        "huge.sql",
    }
    assert errors["broken.sql"][0] == "parse"
    kind, line, message = errors["undefined.sql"]
    assert (kind, line) == ("render", 2) and "nope" in message
    assert errors["binary.sql"][0] == "read" and "binary" in errors["binary.sql"][2]
    assert errors["latin1.sql"][:2] == ("read", 1) and "UTF-8" in errors["latin1.sql"][2]
    assert errors["huge.sql"][0] == "read" and "MiB" in errors["huge.sql"][2]
    assert "empty.sql" not in errors
    good = next(q for q in document.queries if q.path == "good.sql")
    assert good.sources == ("p.staging.customers", "p.staging.orders") and good.targets == ("p.marts.orders",)
    assert document.coverage[0].files == 7 and document.coverage[0].failed == 5


def test_undefined_variable_never_invents_a_table(tmp_path: Path) -> None:
    root = repo(tmp_path, {"a.sql": "INSERT INTO `{{ params.project }}.d.t` SELECT * FROM d.src\n"})
    document = run(root)
    assert document.nodes == () and document.errors[0].kind == "render"
    assert document.errors[0].variable == "params"


def test_default_project_and_dataset_qualify_names(tmp_path: Path) -> None:
    root = repo(tmp_path, {"a.sql": "INSERT INTO marts.t SELECT * FROM src JOIN `other-proj.x.y` USING (id)\n"})
    document = run(root, "default_project: my-proj\ndefault_dataset: raw\n")
    query = document.queries[0]
    assert query.targets == ("my-proj.marts.t",)
    assert query.sources == ("my-proj.raw.src", "other-proj.x.y")
    kinds = {n.id: n.kind for n in document.nodes}
    assert kinds == {"my-proj.marts.t": "table", "my-proj.raw.src": "external", "other-proj.x.y": "external"}


def test_views_and_owners_from_selectors(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "a.sql": "CREATE VIEW p.marts.v AS SELECT * FROM p.staging.s\n",
            "b.sql": "CREATE TABLE p.staging.s AS SELECT * FROM p.raw.r\n",
        },
    )
    yaml = (
        "tables:\n"
        "  - select: 'dataset:marts'\n    owners: [ana@x]\n    labels: {tier: gold}\n"
        "  - select: '+label:tier=gold'\n    labels: {feeds_gold: 'yes'}\n"
    )
    nodes = {n.id: n for n in run(root, yaml).nodes}
    assert nodes["p.marts.v"].kind == "view" and nodes["p.marts.v"].owners == ("ana@x",)
    assert nodes["p.raw.r"].labels == {"feeds_gold": "yes"}
    assert nodes["p.marts.v"].labels == {"tier": "gold", "feeds_gold": "yes"}


def test_missing_source_directory_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(tmp_path / "nope"), "--out", str(tmp_path / "x.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_unwritable_out_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo(tmp_path, {"a.sql": GOOD})
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["build", str(root), "--out", str(blocker / "lineage.json"), "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert str(blocker / "lineage.json") in err and "cannot write" in err


def test_strict_turns_errors_into_exit_1(tmp_path: Path) -> None:
    root = repo(tmp_path, {"a.sql": GOOD, "b.sql": "SELEC 1 FROM (\n"})
    out = str(tmp_path / "o.json")
    assert main(["build", str(root), "--out", out, "--no-cache"]) == 0
    assert main(["build", str(root), "--out", out, "--no-cache", "--strict"]) == 1
    assert len(loads_document(Path(out).read_bytes()).errors) == 1


def test_parallel_build_equals_serial(tmp_path: Path) -> None:
    files = {
        f"d{i % 7}/f{i:03d}.sql": f"INSERT INTO p.d{i % 5}.t{i} SELECT * FROM p.d{(i + 1) % 5}.t{i // 2}\n"
        for i in range(80)
    }
    files["broken.sql"] = "SELECT ((("
    root = repo(tmp_path, files)
    serial = dumps_document(run(root, jobs=1))
    assert dumps_document(run(root, jobs=2)) == serial
    assert dumps_document(run(root, jobs=3)) == serial


def cache_build(root: Path, cache: Path, yaml: str = "") -> tuple[LineageDocument, int]:
    settings = parse_settings(yaml or "vars: {x: d}\n").with_root(root)
    document, stats = build(settings, BuildOptions(cache_dir=str(cache), jobs=1, generated_at="t"))
    return document, stats.analyzed


def test_cache_reuses_only_what_did_not_change(tmp_path: Path) -> None:
    root = repo(tmp_path, {f"f{i}.sql": f"INSERT INTO p.{{{{ x }}}}.t{i} SELECT * FROM p.d.s{i}\n" for i in range(5)})
    cache = tmp_path / "cache"
    cold, analyzed = cache_build(root, cache)
    assert analyzed == 5
    warm, analyzed = cache_build(root, cache)
    assert analyzed == 0 and dumps_document(warm) == dumps_document(cold)
    (root / "f3.sql").write_text("INSERT INTO p.d.changed SELECT * FROM p.d.s3\n")
    changed, analyzed = cache_build(root, cache)
    assert analyzed == 1 and "p.d.changed" in {n.id for n in changed.nodes}
    # every part of the key invalidates: variables, dialect
    _, analyzed = cache_build(root, cache, "vars: {x: e}\n")
    assert analyzed == 5
    _, analyzed = cache_build(root, cache, "vars: {x: e}\ndialect: snowflake\n")
    assert analyzed == 5


def _age(path: Path, seconds: int = 3600) -> None:
    """Set a file's mtime in the past, as for a file nobody touched lately."""
    old = path.stat().st_mtime - seconds
    os.utime(path, (old, old))


@pytest.fixture
def no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by a test are seconds old at most: trust their signature at once."""
    import lineage_core.stat_memo as stat_memo

    monkeypatch.setattr(stat_memo, "RACY_NS", 0)


def test_unchanged_files_are_known_by_their_stat_signature(tmp_path: Path, no_racy_window: None) -> None:
    root = repo(tmp_path, {f"f{i}.sql": f"INSERT INTO p.d.t{i} SELECT * FROM p.d.s{i}\n" for i in range(3)})
    for path in root.iterdir():
        _age(path)
    cache = tmp_path / "cache"
    cache_build(root, cache)
    import orjson

    recorded = orjson.loads((cache / "file-stats.json").read_bytes())["entries"]
    assert sorted(recorded) == [f"{root.as_posix()}/f{i}.sql" for i in range(3)]
    # new variables: every file is a cache miss, and its bytes are read although its digest was known
    document, analyzed = cache_build(root, cache, "vars: {x: other}\n")
    assert analyzed == 3 and {"p.d.t0", "p.d.s2"} <= {n.id for n in document.nodes}


def test_a_file_rewritten_with_its_old_size_and_mtime_is_still_seen(tmp_path: Path, no_racy_window: None) -> None:
    root = repo(tmp_path, {"f.sql": "INSERT INTO p.d.aaaa SELECT * FROM p.d.s\n"})
    _age(root / "f.sql")
    cache = tmp_path / "cache"
    cache_build(root, cache)
    before = (root / "f.sql").stat()
    (root / "f.sql").write_text("INSERT INTO p.d.bbbb SELECT * FROM p.d.s\n")  # same size
    os.utime(root / "f.sql", ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    document, analyzed = cache_build(root, cache)
    assert analyzed == 1 and "p.d.bbbb" in {n.id for n in document.nodes}


def test_a_file_changed_just_now_is_not_trusted_by_its_signature(tmp_path: Path) -> None:
    root = repo(tmp_path, {"f.sql": "SELECT 1\n"})
    cache = tmp_path / "cache"
    cache_build(root, cache)  # f.sql was written a moment ago: racy, so not recorded
    stats_file = cache / "file-stats.json"
    import orjson

    assert not stats_file.exists() or orjson.loads(stats_file.read_bytes())["entries"] == {}


@pytest.mark.parametrize("garbage", [b"", b"{", b'{"format": 1, "entries": {"default:f.sql": [1, 2]}}', b"\xff\x00"])
def test_corrupt_file_stats_are_ignored(tmp_path: Path, garbage: bytes, no_racy_window: None) -> None:
    root = repo(tmp_path, {"f.sql": "INSERT INTO p.d.t SELECT * FROM p.d.s\n"})
    _age(root / "f.sql")
    cache = tmp_path / "cache"
    cache_build(root, cache)
    (cache / "file-stats.json").write_bytes(garbage)
    (root / "f.sql").write_text("INSERT INTO p.d.u SELECT * FROM p.d.s\n")
    _age(root / "f.sql")
    document, analyzed = cache_build(root, cache)
    assert analyzed == 1 and "p.d.u" in {n.id for n in document.nodes}


def test_cache_key_covers_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lineage_core.cache as cache_module

    root = repo(tmp_path, {"a.sql": GOOD})
    cache = tmp_path / "cache"
    cache_build(root, cache)
    monkeypatch.setattr(cache_module, "__version__", "99.0")
    assert cache_build(root, cache)[1] == 1
    monkeypatch.setattr(cache_module, "sqlglot_version", lambda: "0.0.1")
    assert cache_build(root, cache)[1] == 1
    assert cache_build(root, cache)[1] == 0
    monkeypatch.setattr(cache_module, "code_digest", lambda: "changed extraction code")
    assert cache_build(root, cache)[1] == 1


@pytest.mark.parametrize(
    "garbage", [b"", b"{not json", b'{"format": 1, "entries": {"k": 1}}', b"\x00\xff" * 100, b'{"format": 99}']
)
def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path: Path, garbage: bytes) -> None:
    root = repo(tmp_path, {"a.sql": GOOD})
    cache = tmp_path / "cache"
    reference, _ = cache_build(root, cache)
    cache_file = cache / "build-cache.json"
    if garbage.startswith(b'{"format": 1'):
        import orjson

        data = orjson.loads(cache_file.read_bytes())
        data["entries"] = {key: {"file_id": "wrong"} for key in data["entries"]}
        garbage = orjson.dumps(data)
    cache_file.write_bytes(garbage)
    document, analyzed = cache_build(root, cache)
    assert analyzed == 1
    assert dumps_document(document) == dumps_document(reference)


def test_build_cli_bare_without_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, {"a.sql": GOOD})
    monkeypatch.chdir(tmp_path)
    assert main(["build", str(root), "--out", "out/lineage.json"]) == 0
    assert "1 files → 3 tables, 2 edges" in capsys.readouterr().out
    assert os.path.isfile(tmp_path / "out" / "lineage.json")


def _serialized(root: Path, yaml: str, cache: Path | None) -> tuple[bytes, int, int]:
    from lineage_core.pipeline import build_serialized

    settings = parse_settings(yaml).with_root(root)
    data, _, stats = build_serialized(
        settings, BuildOptions(cache_dir=str(cache) if cache else None, jobs=1, generated_at="2026-01-01T00:00:00+00:00")
    )
    return data, stats.analyzed, stats.cached


def test_unchanged_queries_taken_from_the_last_document_give_the_same_document(tmp_path: Path) -> None:
    import shutil

    example = Path(__file__).resolve().parents[1] / "examples" / "warehouse"
    root = tmp_path / "warehouse"
    shutil.copytree(example / "sql", root)
    yaml = (example / "lineage.yaml").read_text().replace("path: sql", "path: .")
    cache = tmp_path / "cache"
    files = len(list(root.rglob("*.sql")))
    _serialized(root, yaml, cache)
    victim = sorted(root.rglob("*.sql"))[len(list(root.rglob("*.sql"))) // 2]
    victim.write_text(victim.read_text() + "\nINSERT INTO `acme-analytics.marts.added` SELECT * FROM `acme-analytics.raw.orders`;\n")
    (sorted(root.rglob("*.sql"))[0]).unlink()
    incremental, analyzed, cached = _serialized(root, yaml, cache)
    assert (analyzed, cached) == (1, files - 2)
    fresh, _, _ = _serialized(root, yaml, None)
    assert incremental == fresh and b"acme-analytics.marts.added" in fresh
    # other settings: the last document is not reused, and the result is still exact
    relabeled = yaml.replace("labels: {repo: composer-dags}", "labels: {repo: renamed}")
    assert relabeled != yaml
    incremental, analyzed, _ = _serialized(root, relabeled, cache)
    assert analyzed == 0 and incremental == _serialized(root, relabeled, None)[0] and b"renamed" in incremental


def test_a_file_is_rendered_once(tmp_path: Path) -> None:
    """What rendering leaves (`{{` kept by `{% raw %}`) is SQL text, never a second template."""
    root = repo(tmp_path, {"a.sql": "SELECT '{% raw %}{{ not_a_variable }}{% endraw %}' AS s FROM p.d.t\n"})
    document = run(root)
    assert document.errors == () and document.queries[0].sources == ("p.d.t",)
