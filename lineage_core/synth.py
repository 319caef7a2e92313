"""Synthetic warehouses for benchmarks and scale tests.

``synth_repository`` writes a Composer-style repository: Jinja-templated BigQuery SQL over
layered datasets (raw → staging → intermediate → marts → reporting), where a few "hub"
tables are read by many files (fan-out) and marts join many inputs (fan-in), as in real
warehouses, plus a few broken files. ``synth_document`` makes a lineage document directly
(100,000 tables in a few seconds) for the app's benchmarks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from lineage_core.assemble import generator_info
from lineage_core.models import Edge, LineageDocument, Node, Query

LAYERS = ("raw", "staging", "intermediate", "marts", "reporting")
LAYER_SHARE = (0.25, 0.25, 0.2, 0.2, 0.1)
DOMAINS = ("orders", "customers", "payments", "sessions", "products", "inventory", "ads", "support", "finance", "ops")


@dataclass(frozen=True)
class SynthTable:
    layer: int
    dataset: str
    name: str

    @property
    def ref(self) -> str:
        return f"`{{{{ params.project }}}}.{self.dataset}.{self.name}`"

    @property
    def id(self) -> str:
        return f"{{project}}.{self.dataset}.{self.name}"


def _tables(count: int, rng: random.Random) -> list[SynthTable]:
    tables: list[SynthTable] = []
    for layer, share in enumerate(LAYER_SHARE):
        n = max(1, round(count * share)) if layer < len(LAYERS) - 1 else max(1, count - len(tables))
        for i in range(n):
            domain = DOMAINS[rng.randrange(len(DOMAINS))]
            dataset = f"{LAYERS[layer]}_{domain}" if count > 2000 else LAYERS[layer]
            tables.append(SynthTable(layer, dataset, f"{LAYERS[layer][:3]}_{domain}_{i:05d}"))
    return tables[:count]


def _pick_inputs(candidates: list[SynthTable], weights: list[float], k: int, rng: random.Random) -> list[SynthTable]:
    chosen: dict[str, SynthTable] = {}
    for _ in range(k * 3):
        if len(chosen) >= k:
            break
        table = rng.choices(candidates, weights=weights, k=1)[0]
        chosen[table.name] = table
    return list(chosen.values())


def _columns(rng: random.Random, inputs: list[SynthTable]) -> list[str]:
    """A select list like real transformation SQL: casts, COALESCE, CASE, string clean-up."""
    shapes = (
        "t0.col_{j} AS col_{j}",
        "COALESCE(t{k}.col_{j}, 0) AS col_{j}",
        "SAFE_CAST(t0.col_{j} AS NUMERIC) AS col_{j}",
        "TRIM(LOWER(t{k}.col_{j})) AS col_{j}",
        "CASE WHEN t0.col_{j} > 100 THEN 'high' WHEN t0.col_{j} > 10 THEN 'mid' ELSE 'low' END AS col_{j}_band",
        "DATE_TRUNC(DATE(t0.updated_at), MONTH) AS col_{j}_month",
        "IFNULL(t{k}.col_{j}, t0.col_{j}) AS col_{j}",
    )
    return [
        rng.choice(shapes).format(j=j, k=rng.randrange(len(inputs)))
        for j in range(rng.randint(8, 24))
    ]


def _query(inputs: list[SynthTable], rng: random.Random) -> str:
    """A CTE chain — filter, aggregate, rank — over ``inputs``: 40–80 lines, like real files."""
    cols = ",\n    ".join(_columns(rng, inputs))
    joins = "\n  ".join(
        f"LEFT JOIN {t.ref} AS t{i}\n    ON t{i}.id = t0.id AND t{i}.dt = t0.dt" for i, t in enumerate(inputs[1:], start=1)
    )
    return f"""WITH source_rows AS (
  SELECT
    t0.id,
    t0.dt,
    {cols},
    CURRENT_TIMESTAMP() AS loaded_at
  FROM {inputs[0].ref} AS t0
  {joins}
  WHERE t0.dt = '{{{{ ds }}}}'
    AND t0.id IS NOT NULL
),
aggregated AS (
  SELECT
    id,
    dt,
    COUNT(*) AS row_count,
    SUM(SAFE_CAST(col_0 AS NUMERIC)) AS total_col_0,
    APPROX_COUNT_DISTINCT(col_1) AS distinct_col_1,
    ARRAY_AGG(STRUCT(col_2, loaded_at) ORDER BY loaded_at DESC LIMIT 5) AS recent,
    MAX(loaded_at) AS loaded_at
  FROM source_rows
  GROUP BY id, dt
),
ranked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY loaded_at DESC) AS rn,
    LAG(total_col_0) OVER (PARTITION BY id ORDER BY dt) AS previous_total
  FROM aggregated
)
SELECT
  id,
  dt,
  row_count,
  total_col_0,
  total_col_0 - IFNULL(previous_total, 0) AS change_col_0,
  distinct_col_1,
  recent,
  loaded_at
FROM ranked
WHERE rn = 1"""


def _sql(target: SynthTable, inputs: list[SynthTable], style: int, rng: random.Random) -> str:
    base = _query(inputs, rng)
    header = (
        f"-- {target.dataset}.{target.name}: generated for benchmarks (reads {len(inputs)} tables)\n"
        f"-- owner: team-{target.name.split('_')[1]}; schedule: daily\n"
    )
    if style == 0:
        return header + f"CREATE OR REPLACE TABLE {target.ref}\nPARTITION BY dt\nCLUSTER BY id AS\n{base};\n"
    if style == 1:
        return header + (
            f"MERGE {target.ref} AS t\nUSING (\n{base}\n) AS s\nON t.id = s.id AND t.dt = s.dt\n"
            "WHEN MATCHED THEN UPDATE SET t.row_count = s.row_count, t.loaded_at = s.loaded_at\n"
            "WHEN NOT MATCHED THEN INSERT ROW;\n"
        )
    if style == 2:
        return header + (
            "DECLARE run_date DATE DEFAULT DATE('{{ ds }}');\n"
            f"CREATE TEMP TABLE staged AS\n{base};\n"
            f"DELETE FROM {target.ref} WHERE dt = run_date;\n"
            f"INSERT INTO {target.ref} (id, dt, row_count, loaded_at)\nSELECT id, dt, row_count, loaded_at FROM staged;\n"
        )
    parts = "\nUNION ALL\n".join(
        f"SELECT '{c}' AS country, * FROM {inputs[0].ref} WHERE country = '{c}'" for c in ("jp", "us", "de")
    )
    return header + (
        "{% if params.env == 'prod' %}\n"
        f"INSERT INTO {target.ref}\n{base};\n"
        "{% else %}\n"
        f"CREATE OR REPLACE TABLE {target.ref} AS\n{parts};\n"
        "{% endif %}\n"
    )


def synth_repository(out: Path, *, tables: int, files: int, seed: int = 7, broken_every: int = 250) -> dict[str, int]:
    """Write ``files`` SQL files over ``tables`` tables under ``out``; return counts."""
    rng = random.Random(seed)
    all_tables = _tables(max(tables, 10), rng)
    by_layer = [[t for t in all_tables if t.layer == layer] for layer in range(len(LAYERS))]
    # Preferential attachment: some tables become hubs that many files read.
    popularity = {t.name: rng.paretovariate(1.3) for t in all_tables}
    writable = [t for t in all_tables if t.layer > 0]
    out.mkdir(parents=True, exist_ok=True)
    broken = 0
    for i in range(files):
        target = writable[i % len(writable)]
        candidates = [t for layer in by_layer[: target.layer] for t in layer]
        weights = [popularity[t.name] for t in candidates]
        fan_in = min(len(candidates), 1 + int(rng.paretovariate(1.5)) if target.layer < 3 else rng.randint(3, 9))
        inputs = _pick_inputs(candidates, weights, fan_in, rng)
        text = _sql(target, inputs, rng.randrange(4), rng)
        if broken_every and i % broken_every == broken_every - 1:
            text = (
                text.replace("SELECT", "SELEC", 1)
                if broken % 2 == 0
                else text.replace("params.project", "params.undefined_project", 1)
            )
            broken += 1
        path = out / LAYERS[target.layer] / f"{target.name}__{i:05d}.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (out / "lineage.yaml").write_text(
        "# synthetic warehouse made by `lineage synth`\n"
        "dialect: bigquery\n"
        "vars:\n  ds: '2026-11-24'\n  params: {project: synth-project, env: prod}\n"
        "sources:\n  - name: synth\n    path: .\n    include: ['**/*.sql']\n",
        encoding="utf-8",
    )
    return {"files": files, "tables": len(all_tables), "broken": broken}


def synth_document(tables: int, *, seed: int = 11, project: str = "synth-project") -> LineageDocument:
    """A layered lineage document with ``tables`` nodes, built directly (no SQL)."""
    rng = random.Random(seed)
    layer_of: list[int] = []
    ids: list[str] = []
    for layer, share in enumerate(LAYER_SHARE):
        n = round(tables * share) if layer < len(LAYERS) - 1 else tables - len(ids)
        for i in range(n):
            domain = DOMAINS[i % len(DOMAINS)]
            ids.append(f"{project}.{LAYERS[layer]}_{domain}.{LAYERS[layer][:3]}_{domain}_{i:06d}")
            layer_of.append(layer)
    starts = [layer_of.index(layer) for layer in range(len(LAYERS))]
    hubs = [rng.randrange(0, starts[1]) for _ in range(max(1, tables // 500))]
    edges: dict[tuple[str, str], list[str]] = {}
    queries = []
    for index in range(starts[1], len(ids)):
        layer = layer_of[index]
        lo, hi = 0, starts[layer]
        count = rng.randint(1, 3) if layer < 3 else rng.randint(2, 6)
        inputs = {rng.randrange(max(lo, starts[layer - 1]), hi) for _ in range(count)}
        if rng.random() < 0.3:
            inputs.add(rng.choice(hubs))
        query_id = f"synth:{LAYERS[layer]}/{index:06d}.sql"
        sources = sorted(ids[i] for i in inputs)
        for source in sources:
            edges.setdefault((source, ids[index]), []).append(query_id)
        queries.append(
            Query(
                query_id,
                f"sql/{LAYERS[layer]}/{index:06d}.sql",
                f"{LAYERS[layer]}/{index:06d}.sql",
                1,
                20,
                "synth",
                {},
                tuple(sources),
                (ids[index],),
                "",
            )
        )
    nodes = tuple(
        Node(
            node_id,
            "external" if layer_of[i] == 0 else ("view" if i % 17 == 0 else "table"),
            {"tier": "gold"} if layer_of[i] >= 3 else {},
            (f"team-{DOMAINS[i % len(DOMAINS)]}@example.com",),
        )
        for i, node_id in enumerate(ids)
    )
    return LineageDocument(
        generated_at="2026-11-25T00:00:00+00:00",
        generator=generator_info(),
        config_digest="synthetic",
        nodes=nodes,
        queries=tuple(queries),
        edges=tuple(Edge(s, t, tuple(q)) for (s, t), q in sorted(edges.items())),
    )
