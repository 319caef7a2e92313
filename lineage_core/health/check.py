"""Glue for `lineage health`: rules → probe → evaluate, and where the documents live."""

from __future__ import annotations

from datetime import datetime

from lineage_core.errors import DocumentError
from lineage_core.graph import LineageGraph
from lineage_core.health.evaluate import assign_rules, evaluate, observation_requests
from lineage_core.health.model import HealthDocument, ProbeReport
from lineage_core.health.probes import Probe, failed, make_probe
from lineage_core.health.rules import HealthSettings
from lineage_core.models import LineageDocument

HEALTH_NAME = "health.json"
NOTIFY_STATE_NAME = "notify-state.json"


def beside(uri: str, name: str) -> str:
    """``name`` in the same folder as ``uri`` (a path, file:// or gs:// URI)."""
    head, sep, _ = uri.rpartition("/")
    return f"{head}/{name}" if sep else name


def check_health(
    document: LineageDocument,
    health: HealthSettings,
    *,
    lineage_uri: str,
    now: datetime,
    previous: HealthDocument | None = None,
    probe: Probe | None = None,
) -> HealthDocument:
    graph = LineageGraph.from_document(document)
    assigned, _ = assign_rules(graph, health.freshness)
    keys = observation_requests(assigned)
    if probe is None and keys:
        probe = make_probe(health)
    if probe is None:
        observations = failed(keys, "no probe: add a `probe:` section to the config")
        report = ProbeReport("none")
    else:
        try:
            result = probe.observe(keys)
        finally:
            close = getattr(probe, "close", None)
            if callable(close):
                close()
        observations, report = result.observations, result.report
    return evaluate(
        document, health, observations, now=now, lineage_uri=lineage_uri, previous=previous, probe=report,
        graph=graph,
    )


def read_previous(uri: str) -> tuple[HealthDocument | None, str | None]:
    """The health document published at ``uri`` and its generation (None, None: none yet).

    An unreadable previous document is not fatal: the history restarts (the store keeps the
    old versions under history/), so a corrupt file never blocks the next evaluation.
    """
    from lineage_core.health.document import loads_health
    from lineage_core.store import ObjectNotFound, read_bytes

    try:
        fetched = read_bytes(uri)
    except ObjectNotFound:
        return None, None
    try:
        return loads_health(fetched.data, f"health document {uri}"), fetched.generation
    except DocumentError:
        return None, fetched.generation
