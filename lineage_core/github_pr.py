"""Open (or update) a pull request that changes one file, through the GitHub REST API.

Used by ``lineage check --fix --open-pr``: the stubbed ``lineage.yaml`` is committed to a
branch of the configuration repository (which may differ from the SQL repository) and a pull
request is opened from it. Idempotent: a run finds its own open pull request by head branch
and updates it (a new commit only when the file differs, then the title and body) instead of
opening another. Endpoints used, all under ``api_url`` (configurable, so tests run against a
loopback fake and GitHub Enterprise works):

- ``GET  /repos/{repo}/git/ref/heads/{branch}``      base and work branch heads
- ``POST /repos/{repo}/git/refs``                     create the work branch
- ``GET  /repos/{repo}/contents/{path}?ref=...``      current file (content and blob sha)
- ``PUT  /repos/{repo}/contents/{path}``              commit the new content on the branch
- ``GET  /repos/{repo}/pulls?head=owner:branch&state=open``
- ``POST /repos/{repo}/pulls`` / ``PATCH /repos/{repo}/pulls/{number}``

The token is passed in by the caller (the CLI reads ``GITHUB_TOKEN``); it is never logged.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lineage_core.errors import LineageError, UsageError

DEFAULT_API_URL = "https://api.github.com"
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class GitHubError(LineageError):
    """The GitHub API refused or failed a request (message says what to do)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PullRequestResult:
    number: int
    url: str
    created: bool  # False: an open pull request of ours was updated
    committed: bool  # False: the branch already had this content
    branch_created: bool


def check_repo(repo: str) -> str:
    if not _REPO.match(repo or ""):
        raise UsageError(f"--repo must be OWNER/NAME (got {repo!r})")
    return repo


class GitHubClient:
    def __init__(self, token: str, api_url: str = DEFAULT_API_URL, timeout: float = 30.0) -> None:
        if not token:
            raise UsageError("no GitHub token: set GITHUB_TOKEN (a token with contents and pull-requests write access)")
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        import requests

        self._session = requests.Session()
        self._session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "lineage-dashboard",
            }
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """JSON of a 2xx answer; None for 404 when ``missing_ok``; GitHubError otherwise."""
        import requests

        url = self.api_url + path
        try:
            response = self._session.request(method, url, json=json, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise GitHubError(f"cannot reach the GitHub API at {self.api_url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise GitHubError(_explain(method, path, response.status_code, _message(response)), response.status_code)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise GitHubError(
                f"{method} {path}: GitHub answered {response.status_code} with a body that is not JSON"
            ) from exc

    # -- the few operations the flow needs -----------------------------------------------
    def branch_sha(self, repo: str, branch: str) -> str | None:
        found = self.request("GET", f"/repos/{repo}/git/ref/heads/{quote(branch, safe='/')}", missing_ok=True)
        if found is None:
            return None
        sha = (found.get("object") or {}).get("sha") if isinstance(found, dict) else None
        if not isinstance(sha, str):
            # `git/ref/heads/x` answers a list when x is only a prefix of branch names
            return None
        return sha

    def create_branch(self, repo: str, branch: str, sha: str) -> None:
        self.request("POST", f"/repos/{repo}/git/refs", json={"ref": f"refs/heads/{branch}", "sha": sha})

    def get_file(self, repo: str, path: str, ref: str) -> tuple[str, str] | None:
        """(text, blob sha) of ``path`` at ``ref``, or None when it does not exist there."""
        found = self.request(
            "GET", f"/repos/{repo}/contents/{quote(path, safe='/')}", params={"ref": ref}, missing_ok=True
        )
        if found is None:
            return None
        if not isinstance(found, dict) or found.get("type") != "file":
            raise GitHubError(f"{repo}:{path} at {ref} is not a file")
        try:
            text = base64.b64decode(found.get("content") or "").decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise GitHubError(f"{repo}:{path} at {ref} is not UTF-8 text") from exc
        return text, str(found.get("sha"))

    def put_file(self, repo: str, path: str, branch: str, text: str, message: str, sha: str | None) -> None:
        body: dict[str, Any] = {
            "message": message,
            "content": base64.b64encode(text.encode("utf-8")).decode("ascii"),
            "branch": branch,
        }
        if sha:
            body["sha"] = sha
        self.request("PUT", f"/repos/{repo}/contents/{quote(path, safe='/')}", json=body)

    def find_open_pr(self, repo: str, branch: str, base: str) -> dict[str, Any] | None:
        owner = repo.split("/")[0]
        found = self.request(
            "GET", f"/repos/{repo}/pulls", params={"head": f"{owner}:{branch}", "base": base, "state": "open"}
        )
        for pr in found if isinstance(found, list) else []:
            if isinstance(pr, dict) and (pr.get("head") or {}).get("ref") == branch:
                return pr
        return None


def open_or_update_pr(
    client: GitHubClient,
    repo: str,
    *,
    base: str,
    branch: str,
    path: str,
    content: str,
    title: str,
    body: str,
    message: str,
) -> PullRequestResult:
    """Make ``path`` on ``branch`` hold ``content`` and have one open PR ``branch`` → ``base``."""
    check_repo(repo)
    if branch == base:
        raise UsageError(f"the pull-request branch must differ from the base branch ({base})")
    base_sha = client.branch_sha(repo, base)
    if base_sha is None:
        raise GitHubError(f"{repo}: base branch '{base}' not found (is --base-branch right?)", 404)
    branch_created = False
    if client.branch_sha(repo, branch) is None:
        client.create_branch(repo, branch, base_sha)
        branch_created = True
    current = client.get_file(repo, path, branch)
    committed = False
    if current is None or current[0] != content:
        client.put_file(repo, path, branch, content, message, current[1] if current else None)
        committed = True
    existing = client.find_open_pr(repo, branch, base)
    if existing is not None:
        number = int(existing["number"])
        updated = client.request("PATCH", f"/repos/{repo}/pulls/{number}", json={"title": title, "body": body})
        url = str(updated.get("html_url") or existing.get("html_url") or "")
        return PullRequestResult(number, url, False, committed, branch_created)
    created = client.request(
        "POST", f"/repos/{repo}/pulls", json={"title": title, "head": branch, "base": base, "body": body}
    )
    return PullRequestResult(
        int(created["number"]), str(created.get("html_url") or ""), True, committed, branch_created
    )


def _message(response: Any) -> str:
    try:
        data = response.json()
    except ValueError:
        return (response.text or "").strip()[:200]
    if not isinstance(data, dict):
        return ""
    text = str(data.get("message") or "")
    details = [
        str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e) for e in data.get("errors") or []
    ]
    return text + (f" ({'; '.join(details)})" if details else "")


def _explain(method: str, path: str, status: int, message: str) -> str:
    where = f"{method} {path}"
    if status == 401:
        return f"GitHub rejected the token (401 {message or 'Bad credentials'}): check GITHUB_TOKEN"
    if status == 403:
        return (
            f"GitHub refused {where} (403 {message}): the token needs `contents: write` and "
            "`pull-requests: write` on the repository, or the API rate limit was hit"
        )
    if status == 404:
        return f"GitHub has no {where} (404): does the repository exist and can the token see it?"
    if status == 422:
        return f"GitHub could not process {where} (422 {message})"
    return f"GitHub answered {status} to {where}: {message}"
