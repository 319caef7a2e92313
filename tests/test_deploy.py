"""Deployment files: Dockerfile, .dockerignore, .streamlit/config.toml, cloudbuild.yaml,
requirements.lock, scripts/image-test.sh and docs/deploy.md.

All offline. Linters run as the real tools (hadolint, check-jsonschema); a missing tool fails in
CI and skips elsewhere. cloudbuild.yaml is checked twice: statically (builders, substitutions,
flags) and by running its bash steps after Cloud Build's substitution with stub `docker` and
`gcloud` commands, so the deploy commands that would really run are the ones asserted on.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import os
import re
import shlex
import stat
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, require_tool
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from ruamel.yaml import YAML

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
CLOUDBUILD = REPO / "cloudbuild.yaml"
STREAMLIT_CONFIG = REPO / ".streamlit" / "config.toml"
LOCK = REPO / "requirements.lock"
IMAGE_TEST = REPO / "scripts" / "image-test.sh"
DEPLOY_DOC = REPO / "docs" / "deploy.md"

# Cloud Build's built-in substitutions (https://cloud.google.com/build/docs/configuring-builds/
# substitute-variable-values); the trigger-only ones are empty strings in manual builds.
BUILTINS = {
    "PROJECT_ID", "PROJECT_NUMBER", "BUILD_ID", "LOCATION", "TRIGGER_NAME", "COMMIT_SHA",
    "REVISION_ID", "SHORT_SHA", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME",
    "REF_NAME", "TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT",
}
KNOWN_BUILDERS = re.compile(
    r"^(gcr\.io/cloud-builders/docker"
    r"|gcr\.io/google\.com/cloudsdktool/cloud-sdk:(slim|\d+\.\d+\.\d+(-slim)?)"
    r"|python:3\.11(\.\d+)?(-slim)?(-bookworm|-trixie)?)$"
)
# $$ (an escaped dollar), ${NAME} or $NAME — anything else after a `$` is an error in Cloud Build.
SUBSTITUTION = re.compile(r"\$(?:(\$)|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")
JOBS = ("build", "merge", "health", "notify")
IMAGE_ENVIRONMENT = {
    **default_environment(),
    "platform_system": "Linux", "sys_platform": "linux", "os_name": "posix",
    "platform_machine": "x86_64", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "python_version": "3.11",
    "python_full_version": "3.11.0",
}


def cloudbuild() -> dict[str, Any]:
    data = YAML(typ="safe").load(CLOUDBUILD.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def step_strings(step: dict[str, Any]) -> Iterator[str]:
    for key in ("name", "entrypoint", "dir", "script"):
        if isinstance(step.get(key), str):
            yield step[key]
    for key in ("args", "env"):
        yield from (str(item) for item in step.get(key) or ())


def all_templates(build: dict[str, Any]) -> list[str]:
    texts = [text for step in build["steps"] for text in step_strings(step)]
    return texts + [str(image) for image in build.get("images") or ()]


def substitute(text: str, values: dict[str, str]) -> str:
    """Cloud Build's substitution: $$ → $, ${NAME} / $NAME → value (unknown names are errors)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "$"
        name = match.group(2) or match.group(3)
        if name not in values:
            raise KeyError(name)
        return values[name]

    return SUBSTITUTION.sub(replace, text)


# --------------------------------------------------------------------------- linters


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = require_tool("hadolint")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    findings = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not findings, f"hadolint Dockerfile:\n{findings}"


def test_cloudbuild_matches_the_cloud_build_schema() -> None:
    check = require_tool("check-jsonschema")
    result = subprocess.run(
        [check, "--builtin-schema", "vendor.cloudbuild", str(CLOUDBUILD)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- Dockerfile


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str


def dockerfile() -> list[Instruction]:
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker drops comment lines, also inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return [Instruction(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in logical]


def index_of(instructions: list[Instruction], keyword: str, needle: str) -> int:
    for i, ins in enumerate(instructions):
        if ins.keyword == keyword and needle in ins.value:
            return i
    raise AssertionError(f"no {keyword} containing {needle!r} in the Dockerfile")


def test_dockerfile_base_image_and_port() -> None:
    instructions = dockerfile()
    froms = [i.value for i in instructions if i.keyword == "FROM"]
    assert froms and froms[-1].split()[0] == "python:3.11-slim"
    env = " ".join(i.value for i in instructions if i.keyword == "ENV")
    assert re.search(r"(^|\s)PORT=8080(\s|$)", env), "ENV PORT=8080 is missing"
    exposed = " ".join(i.value for i in instructions if i.keyword == "EXPOSE").split()
    assert "8080" in exposed or "$PORT" in exposed or "${PORT}" in exposed


def test_dockerfile_runs_as_non_root() -> None:
    instructions = dockerfile()
    users = [(n, i.value.strip()) for n, i in enumerate(instructions) if i.keyword == "USER"]
    assert users, "no USER: the container would run as root"
    position, user = users[-1]
    assert user.split(":")[0] not in ("root", "0"), f"USER {user} is root"
    cmd = index_of(instructions, "CMD", "streamlit")
    assert position < cmd


def test_dockerfile_serves_streamlit_on_port_and_any_address() -> None:
    instructions = dockerfile()
    cmds = [i.value for i in instructions if i.keyword == "CMD"]
    assert len(cmds) == 1
    argv = json.loads(cmds[0])  # exec form: signals reach the process, hadolint is happy
    command = " ".join(argv)
    assert "streamlit run app.py" in command
    assert "--server.address=0.0.0.0" in command
    assert re.search(r"--server\.port=\W*\$\{?PORT", command), "the port must come from $PORT"
    assert "exec streamlit" in command, "Streamlit must replace the shell (PID 1, SIGTERM)"
    # No ENTRYPOINT: `docker run IMAGE lineage build …` and Cloud Run's --command replace the CMD.
    assert not [i for i in instructions if i.keyword == "ENTRYPOINT"]


def test_dockerfile_installs_locked_requirements_before_the_source() -> None:
    instructions = dockerfile()
    copy_lock = index_of(instructions, "COPY", "requirements.lock")
    install_lock = index_of(instructions, "RUN", "requirements.lock")
    copy_source = index_of(instructions, "COPY", "lineage_core")
    install_project = index_of(instructions, "RUN", "--no-deps")
    assert copy_lock < install_lock < copy_source < install_project
    copied = " ".join(i.value for i in instructions if i.keyword == "COPY")
    for needed in ("app.py", "pages/", ".streamlit/", "examples/"):
        assert needed in copied, f"the image must contain {needed}"


def test_dockerignore_allows_only_what_the_dockerfile_copies() -> None:
    lines = [
        line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert lines[0] == "*", ".dockerignore should be an allowlist starting with '*'"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    for ins in dockerfile():
        if ins.keyword != "COPY" or "--from" in ins.value:
            continue
        for source in shlex.split(ins.value)[:-1]:
            name = source.rstrip("/").rstrip("*")
            assert name in allowed, f"COPY {source}: not re-included in .dockerignore"
    assert not allowed & {".venv", ".git", "build", "tests", ".env"}


# --------------------------------------------------------------------------- Streamlit config


def test_streamlit_config_has_the_required_settings() -> None:
    config = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8"))
    assert config["server"]["headless"] is True
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["toolbarMode"] == "minimal"
    assert "base" in config.get("theme", {})


def test_streamlit_accepts_every_option_of_the_config(tmp_path: Path) -> None:
    config = tomllib.loads(STREAMLIT_CONFIG.read_text(encoding="utf-8"))
    expected = {
        f"{section}.{key}": value
        for section, options in config.items()
        for key, value in options.items()
        if not isinstance(value, dict)
    }
    probe = textwrap.dedent(
        """
        import json, sys
        import streamlit.config as config
        found = {}
        for key in json.loads(sys.argv[1]):
            try:
                found[key] = config.get_option(key)
            except RuntimeError as exc:
                found[key] = f"UNKNOWN OPTION: {exc}"
        print(json.dumps(found))
        """
    )
    env = {**os.environ, "HOME": str(tmp_path)}  # no ~/.streamlit/config.toml of this machine
    result = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(sorted(expected))],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == expected, "streamlit reads different values (unknown or misspelled options?)"


# --------------------------------------------------------------------------- cloudbuild.yaml


def test_every_step_uses_a_known_builder() -> None:
    for step in cloudbuild()["steps"]:
        name = step.get("name", "")
        assert KNOWN_BUILDERS.match(name), f"step {step.get('id')}: unexpected builder image {name!r}"


def test_substitutions_are_declared_with_defaults_and_all_used() -> None:
    build = cloudbuild()
    declared = build.get("substitutions") or {}
    assert all(isinstance(v, str) for v in declared.values()), "substitution values are strings"
    used: set[str] = set()
    for text in all_templates(build):
        for match in SUBSTITUTION.finditer(text):
            name = match.group(2) or match.group(3)
            if name:
                used.add(name)
        stray = re.sub(SUBSTITUTION, "", text)
        assert "$" not in stray, f"a `$` Cloud Build cannot substitute (write $$ for bash): {text!r}"
    user = {name for name in used if name.startswith("_")}
    assert user <= set(declared), f"used but not declared: {sorted(user - set(declared))}"
    assert set(declared) <= user, f"declared but never used: {sorted(set(declared) - user)}"
    unknown = {name for name in used if not name.startswith("_")} - BUILTINS
    assert not unknown, f"not Cloud Build substitutions (escape bash variables as $$): {unknown}"
    assert build.get("options", {}).get("substitutionOption", "MUST_MATCH") == "MUST_MATCH"


def test_image_names_work_without_a_commit() -> None:
    build = cloudbuild()
    assert build["substitutions"]["_TAG"], "_TAG needs a non-empty default"
    images = build.get("images") or []
    assert images, "images: records the pushed image in the build results"
    for image in images:
        assert "SHORT_SHA" not in image and "COMMIT_SHA" not in image
        assert image.startswith("${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/lineage-dashboard:")
    for step in build["steps"]:
        for text in step_strings(step):
            for tag in re.findall(r"--tag[= ](\S+)", text):
                assert "SHORT_SHA" not in tag, "manual builds have an empty $SHORT_SHA"
    assert build.get("options", {}).get("logging"), "options.logging is required with a build service account"


def test_cloudbuild_static_flags() -> None:
    text = "\n".join(all_templates(cloudbuild()))
    env_values = re.findall(r"--set-env-vars[= ]\"?([^\s\"]+)", text)
    assert env_values, "no --set-env-vars"
    for value in env_values:
        assert "LINEAGE_URI=" in value, f"--set-env-vars without LINEAGE_URI: {value}"
    assert "--session-affinity" in text
    timeouts = [int(t) for t in re.findall(r"--timeout=(\d+)\b", text)]
    assert timeouts and max(timeouts) >= 3600
    assert "--no-allow-unauthenticated" in text
    assert re.search(r"--ingress=internal(-and-cloud-load-balancing)?\b", text)
    assert "--cache-from" in text
    for job in JOBS:
        assert f"gcloud run jobs deploy lineage-{job}" in text
    assert "gcloud scheduler jobs create http" in text and "gcloud scheduler jobs update http" in text
    unit_tests = [s for s in cloudbuild()["steps"] if s["name"].startswith("python:3.11")]
    assert unit_tests and any('-m "not e2e"' in t for s in unit_tests for t in step_strings(s))


# --- the bash steps, run after substitution with stub docker and gcloud


STUB = """#!{python}
import json, os, sys
tool = os.path.basename(sys.argv[0])
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps([tool, *args]) + "\\n")
if tool == "docker" and args[:1] == ["inspect"]:
    repo = args[-1].rsplit(":", 1)[0]
    print("example.org/other/image@sha256:" + "0" * 64)
    print(repo + "@sha256:" + "a" * 64)
if tool == "gcloud" and args[:4] == ["scheduler", "jobs", "create", "http"] and os.environ.get("STUB_EXISTS"):
    print("ERROR: (gcloud.scheduler.jobs.create.http) ALREADY_EXISTS: Job exists.", file=sys.stderr)
    sys.exit(1)
"""


@dataclass(frozen=True)
class Simulation:
    values: dict[str, str]
    calls: list[list[str]]
    scheduler_existed: bool

    def gcloud(self, *prefix: str) -> list[dict[str, Any]]:
        """gcloud calls starting with ``prefix``: {'_': positionals, flag: value or True}."""
        found = []
        for call in self.calls:
            if call[0] != "gcloud" or tuple(call[1 : 1 + len(prefix)]) != prefix:
                continue
            parsed: dict[str, Any] = {"_": []}
            for token in call[1 + len(prefix) :]:
                if token.startswith("--"):
                    key, _, value = token[2:].partition("=")
                    parsed[key] = value if _ else True
                else:
                    parsed["_"].append(token)
            found.append(parsed)
        return found

    def job(self, name: str) -> dict[str, Any]:
        deploys = [c for c in self.gcloud("run", "jobs", "deploy") if c["_"] == [f"lineage-{name}"]]
        assert len(deploys) == 1, f"lineage-{name} deployed {len(deploys)} times"
        return deploys[0]


def simulate(tmp_path: Path, overrides: dict[str, str], exists: bool) -> Simulation:
    build = cloudbuild()
    values = {name: "" for name in BUILTINS}
    values.update(PROJECT_ID="demo-project", BUILD_ID="0f1e2d3c", PROJECT_NUMBER="123456789")
    values.update(build["substitutions"])
    values.update(overrides)
    workspace = tmp_path / "workspace"
    stubs = tmp_path / "bin"
    workspace.mkdir()
    stubs.mkdir()
    for tool in ("docker", "gcloud"):
        path = stubs / tool
        path.write_text(STUB.format(python=sys.executable))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "calls.jsonl"
    log.touch()
    env = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "STUB_LOG": str(log)}
    if exists:
        env["STUB_EXISTS"] = "1"
    for step in build["steps"]:
        if step["name"].startswith("python:"):
            continue  # the unit tests: this is one of them
        args = [substitute(a, values).replace("/workspace/", f"{workspace}/") for a in step.get("args", [])]
        entrypoint = step.get("entrypoint") or ("docker" if step["name"].endswith("/docker") else None)
        assert entrypoint in ("bash", "docker"), f"step {step['id']}: cannot simulate {entrypoint}"
        command = ["bash", *args] if entrypoint == "bash" else [str(stubs / "docker"), *args]
        result = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"step {step['id']} failed:\n{result.stdout}\n{result.stderr}"
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return Simulation(values, calls, exists)


SCENARIOS = {
    # a manual `gcloud builds submit`: no commit, all defaults, nothing scheduled yet
    "manual-defaults": ({}, False),
    # a trigger rerun: a commit, a named bucket, 4 shards, scheduler jobs already there
    "trigger-rerun": (
        {"SHORT_SHA": "abc1234", "COMMIT_SHA": "abc1234" + "0" * 33, "_BUCKET": "acme-lineage",
         "_BUILD_TASKS": "4", "_SQL_URI": "gs://acme-composer/dags/sql/"},
        True,
    ),
}


@pytest.fixture(params=sorted(SCENARIOS), scope="module")
def simulation(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Simulation:
    overrides, exists = SCENARIOS[request.param]
    return simulate(tmp_path_factory.mktemp(request.param), overrides, exists)


def bucket_of(sim: Simulation) -> str:
    return sim.values["_BUCKET"] or f"{sim.values['PROJECT_ID']}-lineage"


def test_image_is_pushed_and_deployed_by_digest(simulation: Simulation) -> None:
    repo = "{_REGION}-docker.pkg.dev/{PROJECT_ID}/{_REPOSITORY}/lineage-dashboard".format(**simulation.values)
    pushed = [c[2] for c in simulation.calls if c[:2] == ["docker", "push"]]
    expected = [f"{repo}:{simulation.values['_TAG']}"]
    if simulation.values["SHORT_SHA"]:
        expected.append(f"{repo}:{simulation.values['SHORT_SHA']}")
    assert pushed == expected
    deploys = simulation.gcloud("run", "deploy") + simulation.gcloud("run", "jobs", "deploy")
    assert len(deploys) == 1 + len(JOBS)
    for deploy in deploys:
        assert deploy["image"] == f"{repo}@sha256:" + "a" * 64


def test_service_deploy(simulation: Simulation) -> None:
    (service,) = simulation.gcloud("run", "deploy")
    assert service["_"] == [simulation.values["_SERVICE"]]
    assert service["set-env-vars"] == f"LINEAGE_URI=gs://{bucket_of(simulation)}/lineage/lineage.json"
    assert service["session-affinity"] is True
    assert int(service["timeout"]) >= 3600
    assert service["no-allow-unauthenticated"] is True
    assert service["ingress"] in ("internal", "internal-and-cloud-load-balancing")
    assert service["service-account"] == f"lineage-app@{simulation.values['PROJECT_ID']}.iam.gserviceaccount.com"
    assert service["region"] == simulation.values["_REGION"]


def lineage_parser() -> argparse.ArgumentParser:
    from lineage_core.cli.main import make_parser

    return make_parser()


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices) if actions else set()


# The CLI contract (DESIGN.md): the flags each batch command is called with.
CONTRACT = {
    "build": {"--config", "--out"},
    "merge": {"--out"},
    "health": {"--config", "--lineage", "--out"},
    "notify": {"--config", "--health"},
}


def test_jobs_call_the_cli_as_its_contract_says(simulation: Simulation) -> None:
    parser = lineage_parser()
    available = subcommands(parser)
    for name in JOBS:
        job = simulation.job(name)
        assert job["command"] == "lineage"
        argv = job["args"].split(",")
        assert argv[0] == name
        assert "LINEAGE_URI=" in job["set-env-vars"]
        assert CONTRACT[name] <= set(argv), f"lineage-{name}: {argv} lacks {CONTRACT[name] - set(argv)}"
        if name in available:  # checked against the real parser once the command exists
            try:
                parser.parse_args(argv)
            except SystemExit as exc:
                pytest.fail(f"lineage-{name}: `lineage {' '.join(argv)}` is rejected by the CLI ({exc})")


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_jobs_form_one_pipeline(simulation: Simulation) -> None:
    build, merge, health, notify = (simulation.job(n)["args"].split(",") for n in JOBS)
    lineage_uri = f"gs://{bucket_of(simulation)}/lineage/lineage.json"
    tasks = simulation.values["_BUILD_TASKS"]
    assert simulation.job("build")["tasks"] == tasks
    assert "{index}" in flag(build, "--out"), "each shard needs its own part"
    assert merge[1] == flag(build, "--out") and flag(merge, "--shard-count") == tasks
    assert flag(merge, "--out") == lineage_uri == flag(health, "--lineage")
    assert flag(health, "--out") == flag(notify, "--health")
    sql = simulation.values["_SQL_URI"] or f"gs://{bucket_of(simulation)}/sql/"
    assert build[1] == sql
    # a job's disk starts empty: the cache must live in the bucket, where the build may write
    assert flag(build, "--cache-dir").startswith(f"gs://{bucket_of(simulation)}/lineage/")
    config = flag(build, "--config")
    for name in JOBS:
        assert f"{config}=" in simulation.job(name)["set-secrets"], f"lineage-{name} lacks its config"
    assert "SLACK_WEBHOOK_DATA_ALERTS=" in simulation.job("notify")["set-secrets"]


def test_every_job_is_scheduled_and_reruns_update(simulation: Simulation) -> None:
    created = simulation.gcloud("scheduler", "jobs", "create", "http")
    updated = simulation.gcloud("scheduler", "jobs", "update", "http")
    assert sorted(c["_"][0] for c in created) == sorted(f"lineage-{n}" for n in JOBS)
    assert len(updated) == (len(JOBS) if simulation.scheduler_existed else 0)
    for trigger in created:
        job = trigger["_"][0]
        assert trigger["uri"] == (
            f"https://run.googleapis.com/v2/projects/{simulation.values['PROJECT_ID']}"
            f"/locations/{simulation.values['_REGION']}/jobs/{job}:run"
        )
        assert trigger["http-method"] == "POST"
        assert trigger["oauth-service-account-email"].startswith("lineage-scheduler@")
    invokers = simulation.gcloud("run", "jobs", "add-iam-policy-binding")
    assert sorted(i["_"][0] for i in invokers) == sorted(f"lineage-{n}" for n in JOBS)
    assert all(i["role"] == "roles/run.invoker" for i in invokers)


# --------------------------------------------------------------------------- image test script


def test_image_test_script_is_executable() -> None:
    assert IMAGE_TEST.is_file()
    assert os.access(IMAGE_TEST, os.X_OK), "scripts/image-test.sh must be executable"
    assert subprocess.run(["bash", "-n", str(IMAGE_TEST)], capture_output=True).returncode == 0


@pytest.mark.parametrize(("allow", "code"), [("", 1), ("1", 0)])
def test_image_test_without_docker(tmp_path: Path, allow: str, code: int) -> None:
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "ALLOW_NO_DOCKER": allow}
    result = subprocess.run(["bash", str(IMAGE_TEST)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == code
    assert "no Docker engine here" in result.stderr


# --------------------------------------------------------------------------- requirements.lock


def locked() -> dict[str, tuple[str, str, Requirement]]:
    """canonical name → (version, spelling, requirement) from requirements.lock."""
    pins: dict[str, tuple[str, str, Requirement]] = {}
    for number, raw in enumerate(LOCK.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"requirements.lock:{number}: not an exact pin"
        assert not requirement.url and not requirement.extras, f"requirements.lock:{number}: {line}"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"requirements.lock:{number}: {name} pinned twice"
        pins[name] = (specs[0].version, requirement.name, requirement)
    return pins


def project() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def applies(requirement: Requirement, extras: frozenset[str] | set[str] = frozenset()) -> bool:
    marker = requirement.marker
    if marker is None:
        return True
    return any(marker.evaluate({**IMAGE_ENVIRONMENT, "extra": e}) for e in {"", *extras})


def test_lock_pins_every_project_dependency() -> None:
    pins = locked()
    assert canonicalize_name(project()["name"]) not in pins, "the project itself is installed with --no-deps"
    for line in project()["dependencies"]:
        requirement = Requirement(line)
        if not applies(requirement):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, (
            f"{requirement.name} is a dependency but not in requirements.lock: "
            "run .venv/bin/python scripts/lock_requirements.py"
        )
        version = pins[name][0]
        assert requirement.specifier.contains(Version(version), prereleases=True), (
            f"requirements.lock pins {requirement.name}=={version}, pyproject.toml wants {requirement.specifier}"
        )


def test_lock_is_closed_and_holds_no_test_tools() -> None:
    """Every locked package's requirements are locked too, and nothing is there without reason.

    Package metadata comes from this environment, and only for packages installed at the
    locked version (elsewhere the metadata may differ, so those are not judged).
    """
    pins = locked()
    direct = {canonicalize_name(Requirement(r).name) for r in project()["dependencies"]}
    extras: dict[str, set[str]] = {name: set() for name in pins}
    for line in project()["dependencies"]:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) in extras:
            extras[canonicalize_name(requirement.name)] |= set(requirement.extras)
    required_by: dict[str, set[str]] = {name: set() for name in pins}
    missing: list[str] = []
    judged: set[str] = set()
    changed = True
    while changed:  # requested extras can add requirements: iterate to a fixed point
        changed = False
        for name, (version, _, _) in pins.items():
            try:
                dist = metadata.distribution(name)
            except metadata.PackageNotFoundError:
                continue
            if dist.version != version:
                continue
            judged.add(name)
            for line in dist.requires or []:
                child = Requirement(line)
                if not applies(child, extras[name]):
                    continue
                child_name = canonicalize_name(child.name)
                if child_name not in pins:
                    missing.append(f"{child} (needed by {name})")
                    continue
                if not child.specifier.contains(Version(pins[child_name][0]), prereleases=True):
                    missing.append(f"{child} (needed by {name}; locked {pins[child_name][0]})")
                required_by[child_name].add(name)
                if not set(child.extras) <= extras[child_name]:
                    extras[child_name] |= set(child.extras)
                    changed = True
    if not judged:
        pytest.skip("no locked package is installed at its locked version here")
    assert not sorted(set(missing)), f"requirements.lock is not closed: {sorted(set(missing))}"
    if len(judged) < len(pins):
        return  # why a package is locked can only be judged when every package is known
    unneeded = {name for name, parents in required_by.items() if not parents and name not in direct}
    test_tools = {
        canonicalize_name(Requirement(r).name) for r in project()["optional-dependencies"]["test"]
    }
    assert not unneeded & test_tools, f"test tools in the image lock: {sorted(unneeded & test_tools)}"
    assert not unneeded, f"locked but needed by nothing: {sorted(unneeded)}"


# --------------------------------------------------------------------------- docs/deploy.md


def test_deploy_doc_covers_the_setup() -> None:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    for needed in (
        "gcloud services enable", "--uniform-bucket-level-access", "gcloud artifacts repositories create",
        "roles/storage.objectViewer", "roles/storage.objectAdmin", "resource.name.startsWith(",
        "objectListPrefix", "roles/bigquery.metadataViewer", "roles/bigquery.jobUser",
        "roles/bigquery.resourceViewer", "roles/secretmanager.secretAccessor",
        "--set-secrets=SLACK_WEBHOOK_DATA_ALERTS=slack-data-alerts:latest",
        "serverless", "--iap", "--ingress=internal", "CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT",
        "--tasks", "lineage merge", "K_SERVICE", "LINEAGE_URI", "gcloud builds submit",
        "gcloud scheduler jobs", "PROJECT_ID",
    ):
        assert needed in text, f"docs/deploy.md does not mention {needed}"


def test_deploy_doc_has_no_paths_of_this_machine() -> None:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    for marker in (str(REPO), "/work/", "/root/", "/home/"):
        assert marker not in text, f"docs/deploy.md contains a local path ({marker})"


def doc_commands(text: str) -> Iterator[list[str]]:
    """`lineage …` command lines of the fenced code blocks (continuations joined)."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("lineage "):
                yield shlex.split(line.split(" #", 1)[0])[1:]


def test_deploy_doc_commands_match_the_cli() -> None:
    parser = lineage_parser()
    available = subcommands(parser)
    commands = list(doc_commands(DEPLOY_DOC.read_text(encoding="utf-8")))
    assert {argv[0] for argv in commands} >= set(JOBS)
    for argv in commands:
        if argv[0] in ("health", "notify") and "--help" not in argv:
            assert CONTRACT[argv[0]] <= set(argv), f"docs/deploy.md: lineage {' '.join(argv)}"
        if argv[0] in available:
            try:
                parser.parse_args(argv)
            except SystemExit as exc:
                pytest.fail(f"docs/deploy.md: `lineage {' '.join(argv)}` is rejected by the CLI ({exc})")
