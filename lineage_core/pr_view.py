"""The pull-request view: lineage of the merge base against lineage of the working tree.

``lineage pr-diff --base REF`` (see docs/ci.md) checks out ``git merge-base REF HEAD`` into a
temporary ``git worktree``, builds both trees with the same configuration layout and the same
build cache (so only files changed by the pull request are parsed twice), compares the two
documents with :mod:`lineage_core.diff` and adds what a reviewer needs next: which downstream
tables, dashboards and owners the changed edges reach, and which files newly fail.

Paths given relative to the current directory (the SQL directory, ``--config``) are resolved
the same way in the base checkout, so both builds see the same file ids and URIs and the
cache is shared. The output is Markdown for a PR comment; its first line is a hidden marker
(:data:`COMMENT_MARKER`) so a CI step can find and update its own comment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from lineage_core.config import DEFAULT_CONFIG_NAME, Settings, load_settings, parse_settings
from lineage_core.diff import LineageDiff, diff_documents
from lineage_core.errors import ConfigError, LineageError, UsageError
from lineage_core.graph import LineageGraph
from lineage_core.models import ErrorRecord, LineageDocument

COMMENT_MARKER = "<!-- lineage-pr-view -->"
DEFAULT_LIMIT = 50  # rows per section: a PR comment must stay well under GitHub's 65,536 characters


@dataclass(frozen=True)
class Affected:
    id: str
    kind: str
    owners: tuple[str, ...]
    via: tuple[str, ...]  # changed table … this one
    distance: int


@dataclass(frozen=True)
class PrView:
    diff: LineageDiff
    base_ref: str
    base_sha: str
    affected: tuple[Affected, ...] = ()
    new_errors: tuple[ErrorRecord, ...] = ()
    fixed_errors: tuple[ErrorRecord, ...] = ()
    owners: tuple[str, ...] = field(default=())

    @property
    def dashboards(self) -> tuple[Affected, ...]:
        return tuple(a for a in self.affected if a.kind == "dashboard")

    @property
    def tables(self) -> tuple[Affected, ...]:
        return tuple(a for a in self.affected if a.kind != "dashboard")


# -- git -------------------------------------------------------------------------------


def _git(args: Sequence[str], cwd: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise UsageError("git is not installed (the PR view needs it)") from exc
    if proc.returncode != 0:
        raise _GitFailed(proc.stderr.strip() or f"git {' '.join(args)} failed")
    return proc.stdout.strip()


class _GitFailed(LineageError):
    pass


def repository_top(directory: str) -> str:
    if not os.path.isdir(directory):
        raise UsageError(f"{directory} is not a directory")
    try:
        return _git(["rev-parse", "--show-toplevel"], directory)
    except _GitFailed as exc:
        raise UsageError(f"{os.path.abspath(directory)} is not inside a git repository ({exc})") from exc


def merge_base(top: str, ref: str) -> str:
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], top)
    except _GitFailed as exc:
        raise UsageError(f"unknown git ref '{ref}' (fetch it first, e.g. git fetch origin {ref})") from exc
    try:
        return _git(["merge-base", ref, "HEAD"], top)
    except _GitFailed as exc:
        raise UsageError(f"'{ref}' and HEAD have no common ancestor: {exc}") from exc


@contextmanager
def worktree(top: str, sha: str) -> Iterator[str]:
    """A detached checkout of ``sha`` in a temporary directory, removed afterwards."""
    parent = tempfile.mkdtemp(prefix="lineage-base-")
    path = os.path.join(parent, "base")
    try:
        try:
            _git(["worktree", "add", "--detach", "--quiet", path, sha], top)
        except _GitFailed as exc:
            raise LineageError(f"cannot check out the merge base {sha[:12]}: {exc}") from exc
        yield path
    finally:
        with suppress(_GitFailed):
            _git(["worktree", "remove", "--force", path], top)
        shutil.rmtree(parent, ignore_errors=True)
        with suppress(_GitFailed):
            _git(["worktree", "prune"], top)


@contextmanager
def _cwd(path: str) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


# -- building both sides -------------------------------------------------------------


BuildFn = Callable[[Settings], LineageDocument]


def _inside(path: str, top: str) -> str | None:
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(top))
    return None if rel == ".." or rel.startswith(".." + os.sep) else rel


def _settings(config: str | None, sql_dir: str | None, fallback_text: str | None = None) -> Settings:
    if config is not None and not os.path.exists(config) and fallback_text is not None:
        # the config was added by this pull request: the base is built with the new one
        settings = parse_settings(fallback_text, config, os.path.dirname(config) or ".")
    else:
        settings = load_settings(config)
    if sql_dir:
        return settings.with_root(sql_dir)
    if not settings.sources:
        raise UsageError("give the SQL directory (lineage pr-diff SQL_DIR --base REF) or sources in lineage.yaml")
    return settings


def build_pair(
    base_ref: str, sql_dir: str | None, config: str | None, build: BuildFn
) -> tuple[LineageDocument, LineageDocument, str]:
    """(base document, working-tree document, merge-base sha)."""
    if config is None and os.path.isfile(DEFAULT_CONFIG_NAME):
        config = DEFAULT_CONFIG_NAME
    anchor = sql_dir or (os.path.dirname(os.path.abspath(config)) if config else os.getcwd())
    top = repository_top(anchor)
    sha = merge_base(top, base_ref)
    head_settings = _settings(config, sql_dir)
    if sql_dir is not None and _inside(sql_dir, top) is None:
        raise UsageError(f"the SQL directory {sql_dir} is not inside the git repository {top}")
    config_rel = _inside(config, top) if config else None
    if config and config_rel is None and not sql_dir:
        raise UsageError(
            f"{config} is outside the git repository {top}: give the SQL directory too "
            "(lineage pr-diff SQL_DIR --config FILE --base REF)"
        )
    config_text = None
    if config:
        with open(config, encoding="utf-8") as handle:
            config_text = handle.read()
    with worktree(top, sha) as base_dir:
        cwd_rel = _inside(os.getcwd(), top)

        def mapped(path: str | None, *, outside_ok: bool) -> str | None:
            if path is None:
                return None
            if not os.path.isabs(path) and cwd_rel is not None:
                return path  # resolved from the matching directory of the base checkout
            rel = _inside(path, top)
            if rel is None:
                if outside_ok:
                    return os.path.abspath(path)
                raise UsageError(f"{path} is not inside the git repository {top}")
            return os.path.join(base_dir, rel)

        base_config = mapped(config, outside_ok=True)
        base_sql = mapped(sql_dir, outside_ok=False)
        run_dir = os.path.join(base_dir, cwd_rel) if cwd_rel is not None else os.getcwd()
        os.makedirs(run_dir, exist_ok=True)
        with _cwd(run_dir):
            base_settings = _settings(base_config, base_sql, config_text)
            base_document = build(base_settings)
    head_document = build(head_settings)
    return base_document, head_document, sha


# -- what the changes reach ------------------------------------------------------------


def _error_key(error: ErrorRecord) -> tuple[str, str, str]:
    return (error.path, error.kind, error.message)


def analyze(
    base: LineageDocument, head: LineageDocument, *, base_ref: str, base_sha: str, head_label: str = "working tree"
) -> PrView:
    diff = diff_documents(base, head, old_label=f"{base_ref} ({base_sha[:7]})", new_label=head_label)
    changed: set[str] = set(diff.tables_added) | set(diff.tables_removed)
    changed.update(t for _, t in diff.edges_added)
    changed.update(t for _, t in diff.edges_removed)
    for query in diff.queries_changed:
        changed.update(query.targets_added + query.targets_removed)
    reached: dict[str, Affected] = {}
    graphs = [LineageGraph.from_document(document) for document in (head, base)]  # removed edges: base only
    for graph in graphs:
        for start in sorted(changed):
            node = graph.nodes.get(start)
            if start in graph and start not in reached:
                reached[start] = Affected(
                    start, node.kind if node else "table", node.owners if node else (), (start,), 0
                )
    for graph in graphs:
        for start in sorted(changed):
            if start not in graph:
                continue
            for hit in graph.downstream(start, depth=None):
                found = graph.nodes.get(hit.id)
                if hit.id not in reached or reached[hit.id].distance > hit.distance:
                    owners = found.owners if found else ()
                    reached[hit.id] = Affected(hit.id, found.kind if found else "table", owners, hit.path, hit.distance)
    affected = tuple(sorted(reached.values(), key=lambda a: (a.distance, a.id)))
    owners = tuple(sorted({o for a in affected for o in a.owners}))
    base_errors = {_error_key(e) for e in base.errors}
    head_errors = {_error_key(e) for e in head.errors}
    new_errors = tuple(e for e in head.errors if _error_key(e) not in base_errors)
    fixed = tuple(e for e in base.errors if _error_key(e) not in head_errors)
    return PrView(diff, base_ref, base_sha, affected, new_errors, fixed, owners)


# -- rendering -------------------------------------------------------------------------


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _more(total: int, limit: int) -> list[str]:
    return ["", f"… and {total - limit} more"] if total > limit else []


def render_markdown(view: PrView, limit: int = DEFAULT_LIMIT) -> str:
    from lineage_core.diff import render_markdown as diff_markdown

    lines = [COMMENT_MARKER, diff_markdown(view.diff, limit).rstrip("\n")]
    changed = not view.diff.empty
    if changed:
        tables, dashboards = view.tables, view.dashboards
        downstream = [a for a in tables if a.distance > 0]
        lines += [
            "",
            f"**Impact**: {len(downstream)} downstream table(s), {len(dashboards)} dashboard(s), "
            f"{len(view.owners)} owner(s) to tell.",
        ]
        if tables:
            lines += ["", "<details><summary>Changed and downstream tables</summary>", ""]
            lines += ["| table | kind | hops | owners | via |", "|---|---|---:|---|---|"]
            for a in tables[:limit]:
                via = " → ".join(a.via) if a.distance else "changed here"
                lines.append(
                    f"| {_code(a.id)} | {a.kind} | {a.distance} | {_cell(', '.join(a.owners))} | {_cell(via)} |"
                )
            lines += _more(len(tables), limit)
            lines += ["", "</details>"]
        if dashboards:
            lines += ["", "**Dashboards affected**", ""]
            lines += [f"- {_code(a.id)} (via {_cell(' → '.join(a.via))})" for a in dashboards[:limit]]
            lines += _more(len(dashboards), limit)
        if view.owners:
            lines += ["", "**Owners**: " + ", ".join(view.owners[:limit]) + (" …" if len(view.owners) > limit else "")]
    if view.new_errors:
        lines += ["", f"**New problems** ({len(view.new_errors)}): files that now fail to render or parse", ""]
        lines += ["| file | line | kind | message |", "|---|---:|---|---|"]
        lines += [
            f"| {_code(e.path)} | {e.line or ''} | {e.kind} | {_cell(e.message)[:300]} |"
            for e in view.new_errors[:limit]
        ]
        lines += _more(len(view.new_errors), limit)
    if view.fixed_errors:
        lines += ["", f"Fixed problems: {len(view.fixed_errors)}"]
    return "\n".join(lines) + "\n"


def to_dict(view: PrView) -> dict[str, Any]:
    data = view.diff.to_dict()
    data["base"] = {"ref": view.base_ref, "sha": view.base_sha}
    data["affected"] = [
        {"id": a.id, "kind": a.kind, "distance": a.distance, "owners": list(a.owners), "via": list(a.via)}
        for a in view.affected
    ]
    data["owners"] = list(view.owners)
    data["new_errors"] = [
        {"path": e.path, "line": e.line, "kind": e.kind, "message": e.message} for e in view.new_errors
    ]
    data["fixed_errors"] = len(view.fixed_errors)
    return data


def pr_view(base_ref: str, sql_dir: str | None, config: str | None, build: BuildFn) -> PrView:
    """Build both sides and compare them (the whole ``lineage pr-diff``)."""
    try:
        base, head, sha = build_pair(base_ref, sql_dir, config, build)
    except FileNotFoundError as exc:
        raise ConfigError(f"{exc.filename}: not found") from exc
    return analyze(base, head, base_ref=base_ref, base_sha=sha)
