"""`lineage check --fix --open-pr` against a loopback fake of the GitHub REST API.

The fake keeps branches, files and pull requests in memory, answers the endpoints
lineage_core.github_pr uses the way GitHub documents them, and records every request, so
the tests can say exactly what was created, committed, opened and updated.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from lineage_core.cli.main import main
from lineage_core.github_pr import GitHubClient, GitHubError, open_or_update_pr

REPO = "acme/lineage-config"
REMOTE_CONFIG = """\
# the config as it is on main in the config repository
version: 1
vars:
  params:
    project: acme   # production project
"""
LOCAL_CONFIG = "version: 1\nvars:\n  params:\n    project: acme\nsources:\n  - path: sql\n"
SQL = "INSERT INTO {{ params.project }}.{{ params.missing_dataset }}.t SELECT 1\n"


@dataclass
class Fake:
    token: str = "secret-token"
    branches: dict[str, str] = field(default_factory=lambda: {"main": "c0ffee"})
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    fail: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)  # (method, path prefix)
    base_url: str = ""

    def calls(self, method: str, fragment: str = "") -> list[tuple[str, str, Any]]:
        return [r for r in self.requests if r[0] == method and fragment in r[1]]


def _blob_sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    prefix = f"/repos/{REPO}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((method, self.path, body))
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                return self._send(401, {"message": "Bad credentials"})
            for (fail_method, fail_path), (status, answer) in fake.fail.items():
                if method == fail_method and url.path.startswith(fail_path):
                    return self._send(status, answer)
            path, query = url.path, parse_qs(url.query)
            if not path.startswith(prefix):
                return self._send(404, {"message": "Not Found"})
            rest = path[len(prefix) :]
            if rest.startswith("/git/ref/heads/") and method == "GET":
                name = unquote(rest[len("/git/ref/heads/") :])
                if name not in fake.branches:
                    return self._send(404, {"message": "Not Found"})
                return self._send(200, {"ref": f"refs/heads/{name}", "object": {"sha": fake.branches[name]}})
            if rest == "/git/refs" and method == "POST":
                name = body["ref"].removeprefix("refs/heads/")
                if name in fake.branches:
                    return self._send(422, {"message": "Reference already exists"})
                fake.branches[name] = body["sha"]
                return self._send(201, {"ref": body["ref"], "object": {"sha": body["sha"]}})
            if rest.startswith("/contents/"):
                file_path = unquote(rest[len("/contents/") :])
                if method == "GET":
                    ref = query.get("ref", ["main"])[0]
                    text = fake.files.get((ref, file_path))
                    if text is None:
                        return self._send(404, {"message": "Not Found"})
                    content = base64.b64encode(text.encode()).decode()
                    return self._send(200, {"type": "file", "content": content, "sha": _blob_sha(text)})
                if method == "PUT":
                    branch = body["branch"]
                    current = fake.files.get((branch, file_path))
                    if current is not None and body.get("sha") != _blob_sha(current):
                        return self._send(409, {"message": "sha does not match"})
                    if current is None and body.get("sha"):
                        return self._send(422, {"message": "sha given for a new file"})
                    fake.files[(branch, file_path)] = base64.b64decode(body["content"]).decode()
                    fake.branches[branch] = _blob_sha(branch + str(len(fake.requests)))
                    return self._send(201 if current is None else 200, {"commit": {"sha": fake.branches[branch]}})
            if rest == "/pulls" and method == "GET":
                head = query.get("head", [""])[0]
                found = [
                    p for p in fake.pulls if p["state"] == "open" and f"{REPO.split('/')[0]}:{p['head']['ref']}" == head
                ]
                return self._send(200, found)
            if rest == "/pulls" and method == "POST":
                if body["head"] not in fake.branches:
                    return self._send(422, {"message": "Validation Failed", "errors": [{"message": "no head"}]})
                number = len(fake.pulls) + 1
                pr = {
                    "number": number,
                    "state": "open",
                    "html_url": f"{fake.base_url}/{REPO}/pull/{number}",
                    "head": {"ref": body["head"]},
                    "base": {"ref": body["base"]},
                    "title": body["title"],
                    "body": body["body"],
                }
                fake.pulls.append(pr)
                return self._send(201, pr)
            if rest.startswith("/pulls/") and method == "PATCH":
                number = int(rest.split("/")[2])
                pr = fake.pulls[number - 1]
                pr.update({k: v for k, v in body.items() if k in ("title", "body")})
                return self._send(200, pr)
            return self._send(404, {"message": f"fake has no {method} {rest}"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


@pytest.fixture
def github() -> Iterator[Fake]:
    fake = Fake()
    fake.files[("main", "config/lineage.yaml")] = REMOTE_CONFIG
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sql_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "orders.sql").write_text(SQL)
    (tmp_path / "lineage.yaml").write_text(LOCAL_CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", "secret-token")
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    return tmp_path


def open_pr(fake: Fake, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    args = ["check", "--fix", "--open-pr", "--no-cache", "--repo", REPO, "--api-url", fake.base_url]
    code = main([*args, "--config-path", "config/lineage.yaml", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_first_run_creates_branch_commits_stubbed_remote_config_and_opens_pr(
    github: Fake, sql_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = open_pr(github, capsys)
    assert code == 0, err
    assert "opened pull request #1" in out
    # branch from main's head, the remote config (not the local one) plus the stub, one PR
    assert github.calls("POST", "/git/refs")[0][2] == {"ref": "refs/heads/lineage/config-stubs", "sha": "c0ffee"}
    committed = github.files[("lineage/config-stubs", "config/lineage.yaml")]
    assert committed == REMOTE_CONFIG + "    missing_dataset: TODO  # TODO: set; undefined in orders.sql:1\n"
    assert github.files[("main", "config/lineage.yaml")] == REMOTE_CONFIG
    assert len(github.pulls) == 1
    pr = github.pulls[0]
    assert pr["base"]["ref"] == "main" and pr["head"]["ref"] == "lineage/config-stubs"
    assert "`vars.params.missing_dataset`" in pr["body"] and "+    missing_dataset: TODO" in pr["body"]
    assert "```diff" in pr["body"]
    # and the local config got the stub too (--fix)
    assert "missing_dataset: TODO" in (sql_repo / "lineage.yaml").read_text()


def test_rerun_updates_its_own_pr_and_opens_none(
    github: Fake, sql_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert open_pr(github, capsys)[0] == 0
    (sql_repo / "lineage.yaml").write_text(LOCAL_CONFIG)  # a fresh CI checkout: stubs not merged yet
    before = len(github.requests)
    code, out, err = open_pr(github, capsys)
    assert code == 0, err
    assert "updated pull request #1" in out
    second = github.requests[before:]
    methods = [(m, p.split("?")[0]) for m, p, _ in second]
    assert ("POST", f"/repos/{REPO}/pulls") not in methods and ("POST", f"/repos/{REPO}/git/refs") not in methods
    assert not [m for m in methods if m[0] == "PUT"]  # same content: no empty commit
    assert ("PATCH", f"/repos/{REPO}/pulls/1") in methods
    assert len(github.pulls) == 1


def test_rerun_with_a_new_variable_commits_again(
    github: Fake, sql_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert open_pr(github, capsys)[0] == 0
    (sql_repo / "lineage.yaml").write_text(LOCAL_CONFIG)
    (sql_repo / "sql" / "more.sql").write_text("SELECT * FROM {{ region }}.x.y\n")
    code, out, _ = open_pr(github, capsys)
    assert code == 0 and "updated pull request #1" in out
    assert "region: TODO" in github.files[("lineage/config-stubs", "config/lineage.yaml")]
    assert len(github.calls("PUT")) == 2 and len(github.pulls) == 1
    assert "`vars.region`" in github.pulls[0]["body"]


def test_nothing_to_stub_means_no_github_calls(
    github: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "ok.sql").write_text("SELECT 1 FROM a.b.c\n")
    (tmp_path / "lineage.yaml").write_text(LOCAL_CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", "secret-token")
    code, out, _ = open_pr(github, capsys)
    assert code == 0 and "nothing to stub" in out and github.requests == []


def test_missing_remote_config_is_created(github: Fake, sql_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = open_pr(github, capsys, "--config-path", "new/lineage.yaml")
    assert code == 0, err
    created = github.files[("lineage/config-stubs", "new/lineage.yaml")]
    assert (
        created == "version: 1\nvars:\n  params:\n    missing_dataset: TODO  # TODO: set; undefined in orders.sql:1\n"
    )
    put = github.calls("PUT")[0][2]
    assert "sha" not in put and put["branch"] == "lineage/config-stubs"


@pytest.mark.parametrize(
    ("status", "where", "answer", "expected"),
    [
        (401, ("GET", "/"), {"message": "Bad credentials"}, "rejected the token (401 Bad credentials)"),
        (
            403,
            ("POST", f"/repos/{REPO}/git/refs"),
            {"message": "Resource not accessible by integration"},
            "403 Resource not accessible by integration",
        ),
        (
            422,
            ("POST", f"/repos/{REPO}/pulls"),
            {"message": "Validation Failed", "errors": [{"message": "A pull request already exists"}]},
            "422 Validation Failed (A pull request already exists)",
        ),
    ],
)
def test_github_errors_are_clear_and_exit_1(
    github: Fake,
    sql_repo: Path,
    capsys: pytest.CaptureFixture[str],
    status: int,
    where: tuple[str, str],
    answer: dict[str, Any],
    expected: str,
) -> None:
    github.fail[where] = (status, answer)
    code, _, err = open_pr(github, capsys)
    assert code == 1 and expected in err
    assert "secret-token" not in err


def test_wrong_token_is_401(
    github: Fake, sql_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    code, _, err = open_pr(github, capsys)
    assert code == 1 and "GitHub rejected the token" in err and "GITHUB_TOKEN" in err


def test_unreachable_api_and_unknown_base_branch(
    github: Fake, sql_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--fix", "--open-pr", "--no-cache", "--repo", REPO, "--api-url", "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot reach the GitHub API at http://127.0.0.1:9" in err
    (sql_repo / "lineage.yaml").write_text(LOCAL_CONFIG)
    code, _, err = open_pr(github, capsys, "--base-branch", "develop")
    assert code == 1 and "base branch 'develop' not found" in err


def test_client_flow_without_the_cli(github: Fake) -> None:
    client = GitHubClient("secret-token", github.base_url)
    kwargs = {"base": "main", "branch": "b", "path": "f.yaml", "title": "t", "body": "x", "message": "m"}
    first = open_or_update_pr(client, REPO, content="a: 1\n", **kwargs)
    again = open_or_update_pr(client, REPO, content="a: 1\n", **kwargs)
    assert (first.created, first.committed, first.branch_created) == (True, True, True)
    assert (again.created, again.committed, again.branch_created) == (False, False, False)
    assert again.number == first.number and again.url.endswith(f"/{REPO}/pull/1")
    with pytest.raises(GitHubError):
        open_or_update_pr(client, "acme/other", content="a: 1\n", **kwargs)
