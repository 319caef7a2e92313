"""`lineage pr-diff --base REF`: lineage of the merge base against the working tree.

The git repository is made by the test: a base commit on main, then a feature commit that
changes one query's source, adds a query and deletes one, plus an uncommitted edit in the
working tree. Commit dates and authors are fixed, so the merge-base sha is stable too.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lineage_core.cli.main import main
from lineage_core.models import Edge, ErrorRecord, LineageDocument, Node
from lineage_core.pr_view import COMMENT_MARKER, analyze, render_markdown

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.test",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.test",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}

CONFIG = """\
version: 1
default_project: acme
sources:
  - name: dags
    path: sql
tables:
  - select: acme.marts.orders
    owners: [sales-team]
  - select: acme.reporting.kpis
    owners: [exec-team, sales-team]
"""

BASE_SQL = {
    "staging/orders.sql": "CREATE OR REPLACE TABLE staging.orders AS SELECT * FROM raw.orders\n",
    "marts/orders.sql": "CREATE OR REPLACE TABLE marts.orders AS SELECT * FROM staging.orders\n",
    "reporting/kpis.sql": "CREATE OR REPLACE VIEW reporting.kpis AS SELECT count(*) AS n FROM marts.orders\n",
    "legacy/old.sql": "CREATE OR REPLACE TABLE legacy.old AS SELECT * FROM raw.legacy\n",
}

GOLDEN = """\
<!-- lineage-pr-view -->
### Lineage changes: `main (SHA)` → `working tree`

| | added | removed | changed |
|---|---:|---:|---:|
| tables | 3 | 3 | |
| edges | 3 | 2 | |
| queries | 2 | 1 | 1 |

**Tables added** (3)

- `acme.marts.refunds`
- `acme.raw.orders_v2`
- `acme.raw.refunds`

**Tables removed** (3)

- `acme.legacy.old`
- `acme.raw.legacy`
- `acme.raw.orders`

**Edges added** (3)

- `acme.raw.orders_v2` → `acme.staging.orders`
- `acme.raw.refunds` → `acme.marts.refunds`
- `acme.staging.orders` → `acme.marts.refunds`

**Edges removed** (2)

- `acme.raw.legacy` → `acme.legacy.old`
- `acme.raw.orders` → `acme.staging.orders`

**Queries added** (2)

- `dags:broken.sql`
- `dags:marts/refunds.sql`

**Queries removed** (1)

- `dags:legacy/old.sql`

**Queries changed** (1)

- `staging/orders.sql`: sources +acme.raw.orders_v2; sources -acme.raw.orders

**Impact**: 2 downstream table(s), 0 dashboard(s), 2 owner(s) to tell.

<details><summary>Changed and downstream tables</summary>

| table | kind | hops | owners | via |
|---|---|---:|---|---|
| `acme.legacy.old` | table | 0 |  | changed here |
| `acme.marts.refunds` | table | 0 |  | changed here |
| `acme.raw.legacy` | external | 0 |  | changed here |
| `acme.raw.orders` | external | 0 |  | changed here |
| `acme.raw.orders_v2` | external | 0 |  | changed here |
| `acme.raw.refunds` | external | 0 |  | changed here |
| `acme.staging.orders` | table | 0 |  | changed here |
| `acme.marts.orders` | table | 1 | sales-team | acme.staging.orders → acme.marts.orders |
| `acme.reporting.kpis` | view | 2 | exec-team, sales-team | acme.staging.orders → acme.marts.orders → acme.reporting.kpis |

</details>

**Owners**: exec-team, sales-team

**New problems** (1): files that now fail to render or parse

| file | line | kind | message |
|---|---:|---|---|
| `broken.sql` | 1 | render | undefined Jinja variable: 'nope' is undefined |
"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = repo / "sql" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "dags"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "lineage.yaml").write_text(CONFIG)
    write(repo, BASE_SQL)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "base")
    git(repo, "checkout", "--quiet", "-b", "feature")
    write(repo, {"staging/orders.sql": "CREATE OR REPLACE TABLE staging.orders AS SELECT * FROM raw.orders_v2\n"})
    (repo / "sql" / "legacy" / "old.sql").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "feature")
    # not committed yet: the PR view is about the working tree
    write(
        repo,
        {
            "marts/refunds.sql": "CREATE TABLE marts.refunds AS SELECT * FROM raw.refunds JOIN staging.orders USING (id)\n",
            "broken.sql": "SELECT * FROM {{ nope }}\n",
        },
    )
    monkeypatch.chdir(repo)
    return repo


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_markdown_matches_golden_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "pr-diff", "--base", "main")
    assert code == 0, err
    sha = git(repo, "merge-base", "main", "HEAD")
    assert f"main ({sha[:7]})" in out
    assert out.replace(sha[:7], "SHA") == GOLDEN


def test_reports_exactly_the_changed_edges(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pr-diff", "--base", "main", "--format", "json")
    data = json.loads(out)
    assert code == 0
    edges_added = {(e["source"], e["target"]) for e in data["edges"]["added"]}
    edges_removed = {(e["source"], e["target"]) for e in data["edges"]["removed"]}
    assert edges_added == {
        ("acme.raw.orders_v2", "acme.staging.orders"),
        ("acme.raw.refunds", "acme.marts.refunds"),
        ("acme.staging.orders", "acme.marts.refunds"),
    }
    assert edges_removed == {("acme.raw.orders", "acme.staging.orders"), ("acme.raw.legacy", "acme.legacy.old")}
    assert data["base"]["sha"] == git(repo, "merge-base", "main", "HEAD")
    assert data["owners"] == ["exec-team", "sales-team"]
    assert {a["id"] for a in data["affected"] if a["distance"] > 0} == {"acme.marts.orders", "acme.reporting.kpis"}


def test_no_change_against_itself_and_worktree_is_cleaned_up(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "sql" / "marts" / "refunds.sql").unlink()
    (repo / "sql" / "broken.sql").unlink()
    code, out, _ = run(capsys, "pr-diff", "--base", "HEAD", "--fail-on-change")
    assert code == 0 and out.startswith(COMMENT_MARKER) and "No table, edge or query changes." in out
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    code, _, _ = run(capsys, "pr-diff", "--base", "main", "--fail-on-change")
    assert code == 1


def test_sql_dir_argument_from_outside_the_repository(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out_file = elsewhere / "comment.md"
    code, _, err = run(
        capsys,
        "pr-diff",
        str(repo),
        "--config",
        str(repo / "lineage.yaml"),
        "--base",
        "main",
        "--out",
        str(out_file),
        "--cache-dir",
        str(elsewhere / "cache"),
    )
    assert code == 0, err
    text = out_file.read_text()
    assert "`acme.raw.orders_v2` → `acme.staging.orders`" in text
    assert (elsewhere / "cache" / "build-cache.json").is_file()


def test_not_a_git_repository_and_unknown_ref_exit_2(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "pr-diff", "--base", "no-such-branch")
    assert code == 2 and "unknown git ref 'no-such-branch'" in err
    plain = tmp_path / "plain"
    (plain / "sql").mkdir(parents=True)
    (plain / "sql" / "a.sql").write_text("SELECT 1\n")
    monkeypatch.chdir(plain)
    code, _, err = run(capsys, "pr-diff", "sql", "--base", "main")
    assert code == 2 and "is not inside a git repository" in err


def test_impact_names_dashboards_and_owners() -> None:
    def doc(edges: list[tuple[str, str]], errors: tuple[ErrorRecord, ...] = ()) -> LineageDocument:
        nodes = (
            Node("p.d.a"),
            Node("p.d.b"),
            Node("p.d.c", owners=("team-c",)),
            Node("bi:dashboard/7", kind="dashboard", owners=("ceo@acme.test",)),
        )
        return LineageDocument(
            "2026-01-01T00:00:00+00:00", {}, "x", nodes, (), tuple(Edge(s, t) for s, t in edges), errors
        )

    base = doc([("p.d.b", "p.d.c"), ("p.d.c", "bi:dashboard/7")])
    head = doc([("p.d.a", "p.d.b"), ("p.d.b", "p.d.c"), ("p.d.c", "bi:dashboard/7")])
    view = analyze(base, head, base_ref="main", base_sha="0" * 40)
    assert [a.id for a in view.dashboards] == ["bi:dashboard/7"]
    assert view.dashboards[0].via == ("p.d.b", "p.d.c", "bi:dashboard/7")
    assert view.owners == ("ceo@acme.test", "team-c")
    text = render_markdown(view)
    assert "**Dashboards affected**" in text and "`bi:dashboard/7` (via p.d.b → p.d.c → bi:dashboard/7)" in text
    assert "1 dashboard(s)" in text


def test_both_builds_share_the_cache(repo: Path) -> None:
    """Unchanged files are parsed once: the working-tree build takes them from the base build's cache."""
    from lineage_core.config import Settings
    from lineage_core.pipeline import BuildOptions, build
    from lineage_core.pr_view import pr_view

    stats: list[tuple[int, int]] = []

    def run_build(settings: Settings) -> LineageDocument:
        document, built = build(settings, BuildOptions(jobs=1, cache_dir=str(repo / ".cache")))
        stats.append((built.analyzed, built.cached))
        return document

    view = pr_view("main", None, None, run_build)
    assert not view.diff.empty
    # base: 4 files, all parsed; working tree: 5 files, 2 unchanged ones from the cache
    assert stats == [(4, 0), (3, 2)]


@pytest.mark.parametrize("command", ["pr-diff", "dbt-lineage", "export", "check"])
def test_commands_have_help(command: str) -> None:
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "lineage_core.cli.main", command, "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "usage: lineage" in proc.stdout, proc.stderr
