"""`lineage diff --base REF`: the pull-request view under the name issue 11 gives it.

The git repository is made by the test with exactly two commits (dates and author fixed);
``diff --base HEAD~1`` compares the first commit's lineage with the second's (the working
tree is clean). The second commit switches one query to another raw table and adds a view,
so exactly one edge is removed and two are added.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lineage_core.cli.main import main

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
"""

FIRST = {
    "staging/orders.sql": "CREATE OR REPLACE TABLE staging.orders AS SELECT * FROM raw.orders\n",
    "marts/orders.sql": "CREATE OR REPLACE TABLE marts.orders AS SELECT * FROM staging.orders\n",
}
SECOND = {
    "staging/orders.sql": "CREATE OR REPLACE TABLE staging.orders AS SELECT * FROM raw.orders_v2\n",
    "reporting/kpis.sql": "CREATE OR REPLACE VIEW reporting.kpis AS SELECT count(*) AS n FROM marts.orders\n",
}

GOLDEN = """\
<!-- lineage-pr-view -->
### Lineage changes: `HEAD~1 (SHA)` → `working tree`

| | added | removed | changed |
|---|---:|---:|---:|
| tables | 2 | 1 | |
| edges | 2 | 1 | |
| queries | 1 | 0 | 1 |

**Tables added** (2)

- `acme.raw.orders_v2`
- `acme.reporting.kpis`

**Tables removed** (1)

- `acme.raw.orders`

**Edges added** (2)

- `acme.marts.orders` → `acme.reporting.kpis`
- `acme.raw.orders_v2` → `acme.staging.orders`

**Edges removed** (1)

- `acme.raw.orders` → `acme.staging.orders`

**Queries added** (1)

- `dags:reporting/kpis.sql`

**Queries changed** (1)

- `staging/orders.sql`: sources +acme.raw.orders_v2; sources -acme.raw.orders

**Impact**: 1 downstream table(s), 0 dashboard(s), 1 owner(s) to tell.

<details><summary>Changed and downstream tables</summary>

| table | kind | hops | owners | via |
|---|---|---:|---|---|
| `acme.raw.orders` | external | 0 |  | changed here |
| `acme.raw.orders_v2` | external | 0 |  | changed here |
| `acme.reporting.kpis` | view | 0 |  | changed here |
| `acme.staging.orders` | table | 0 |  | changed here |
| `acme.marts.orders` | table | 1 | sales-team | acme.staging.orders → acme.marts.orders |

</details>

**Owners**: sales-team
"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> None:
    for rel, text in files.items():
        path = repo / "sql" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "dags"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "lineage.yaml").write_text(CONFIG)
    commit(repo, FIRST, "first")
    commit(repo, SECOND, "second")
    monkeypatch.chdir(repo)
    return repo


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_markdown_by_default_matches_golden(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "diff", "--base", "HEAD~1", "--no-cache")
    assert code == 0, err
    sha = git(repo, "rev-parse", "HEAD~1")
    assert f"HEAD~1 ({sha[:7]})" in out
    assert out.replace(sha[:7], "SHA") == GOLDEN
    assert len(git(repo, "worktree", "list").splitlines()) == 1  # the base checkout is gone


def test_reports_exactly_the_changed_edges(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "diff", "--base", "HEAD~1", ".", "--config", "lineage.yaml", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {(e["source"], e["target"]) for e in data["edges"]["added"]} == {
        ("acme.raw.orders_v2", "acme.staging.orders"),
        ("acme.marts.orders", "acme.reporting.kpis"),
    }
    assert {(e["source"], e["target"]) for e in data["edges"]["removed"]} == {("acme.raw.orders", "acme.staging.orders")}
    assert data["base"] == {"ref": "HEAD~1", "sha": git(repo, "rev-parse", "HEAD~1")}
    assert data["owners"] == ["sales-team"]


def test_same_output_as_pr_diff_and_fail_on_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("markdown", "text", "json"):
        code_diff, out_diff, _ = run(capsys, "diff", "--base", "HEAD~1", "--format", fmt, "--limit", "3")
        code_pr, out_pr, _ = run(capsys, "pr-diff", "--base", "HEAD~1", "--format", fmt, "--limit", "3")
        assert (code_diff, out_diff) == (code_pr, out_pr) == (0, out_pr)
    code, _, _ = run(capsys, "diff", "--base", "HEAD~1", "--fail-on-change")
    assert code == 1
    code, out, _ = run(capsys, "diff", "--base", "HEAD", "--fail-on-change")
    assert code == 0 and "No table, edge or query changes." in out


def test_out_file(repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "comment.md"
    code, out, err = run(capsys, "diff", "--base", "HEAD~1", "--out", str(target))
    assert code == 0 and out == ""
    assert target.read_text().replace(git(repo, "rev-parse", "HEAD~1")[:7], "SHA") == GOLDEN
    assert "HEAD~1" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "HEAD~1", "--since", "7d"], "exclude each other"),
        (["--base", "HEAD~1", "a.json", "b.json"], "at most one path"),
        (["--base", "no-such-ref"], "unknown git ref 'no-such-ref'"),
        (["a.json", "b.json", "--config", "lineage.yaml"], "--config only with --base"),
        (["a.json", "b.json", "--fail-on-change", "--no-cache"], "--no-cache, --fail-on-change only with --base"),
        (["a.json"], "give two documents"),
        (["--base", "HEAD~1", "--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_usage_errors_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "diff", *args)
    assert code == 2
    assert out == ""
    assert message in err


def test_base_outside_a_git_repository_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    (plain / "sql").mkdir(parents=True)
    monkeypatch.chdir(plain)
    code, _, err = run(capsys, "diff", "--base", "main", "sql")
    assert code == 2 and "not inside a git repository" in err
