"""Table lineage: BigQuery-first cases of our own, other dialects, scripts, and the corpus."""

from __future__ import annotations

import pytest
from extract_helpers import assert_table_lineage, corpus_cases

from lineage_core.errors import LineageError, RenderError
from lineage_core.extract import ExtractIssue, table_lineage
from lineage_core.models import TableId

# (sql, sources, targets) — BigQuery unless said otherwise
BIGQUERY = [
    # plain reads, names as written, case kept
    ("SELECT * FROM ds.orders", {"ds.orders"}, set()),
    ("SELECT * FROM `proj.ds.Orders`", {"proj.ds.Orders"}, set()),
    ("SELECT * FROM `proj`.`ds`.`orders`", {"proj.ds.orders"}, set()),
    ("SELECT * FROM `my-proj.ds.t`", {"my-proj.ds.t"}, set()),
    ("SELECT * FROM `my-proj`.ds.t", {"my-proj.ds.t"}, set()),
    ("SELECT * FROM my-proj.ds.t", {"my-proj.ds.t"}, set()),
    ("SELECT * FROM ds.Orders o JOIN ds.customers c ON o.cid = c.id", {"ds.Orders", "ds.customers"}, set()),
    ("SELECT * FROM ds.a, ds.b", {"ds.a", "ds.b"}, set()),
    ("SELECT * FROM ds.a AS x, ds.b AS y WHERE x.id = y.id", {"ds.a", "ds.b"}, set()),
    ("SELECT a.x FROM ds.a LEFT JOIN ds.b USING (id) RIGHT JOIN ds.c USING (id)", {"ds.a", "ds.b", "ds.c"}, set()),
    ("SELECT 1", set(), set()),
    ("SELECT CURRENT_DATE()", set(), set()),
    ("SELECT * FROM ds.t WHERE name = 'FROM ds.secret'", {"ds.t"}, set()),
    ("SELECT * FROM ds.t -- JOIN ds.commented\n", {"ds.t"}, set()),
    ("SELECT * /* FROM ds.hidden */ FROM ds.t", {"ds.t"}, set()),
    ("SELECT * FROM ds.t # JOIN ds.hash_comment\n", {"ds.t"}, set()),
    ('SELECT """FROM ds.triple""" AS s FROM ds.t', {"ds.t"}, set()),
    ("SELECT r'FROM ds.raw' FROM ds.t", {"ds.t"}, set()),
    # wildcard tables, time travel, information schema
    ("SELECT * FROM `proj.analytics.events_*` WHERE _TABLE_SUFFIX BETWEEN '20240101' AND '20240131'", {"proj.analytics.events_*"}, set()),
    ("SELECT * FROM proj.analytics.events_* WHERE _TABLE_SUFFIX > '1'", {"proj.analytics.events_*"}, set()),
    ("SELECT * FROM ds.t FOR SYSTEM_TIME AS OF TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 1 HOUR)", {"ds.t"}, set()),
    ("SELECT * FROM `region-us`.INFORMATION_SCHEMA.JOBS", {"region-us.INFORMATION_SCHEMA.JOBS"}, set()),
    ("SELECT * FROM `region-us.INFORMATION_SCHEMA.JOBS_BY_PROJECT`", {"region-us.INFORMATION_SCHEMA.JOBS_BY_PROJECT"}, set()),
    ("SELECT table_name FROM ds.INFORMATION_SCHEMA.TABLES", {"ds.INFORMATION_SCHEMA.TABLES"}, set()),
    ("SELECT * FROM `proj.ds.INFORMATION_SCHEMA.COLUMNS`", {"proj.ds.INFORMATION_SCHEMA.COLUMNS"}, set()),
    # CTEs
    ("WITH a AS (SELECT * FROM ds.src) SELECT * FROM a", {"ds.src"}, set()),
    ("WITH a AS (SELECT * FROM ds.x), b AS (SELECT * FROM a JOIN ds.y USING (id)) SELECT * FROM b", {"ds.x", "ds.y"}, set()),
    ("WITH orders AS (SELECT * FROM ds.orders) SELECT * FROM orders", {"ds.orders"}, set()),
    ("WITH t AS (SELECT * FROM t) SELECT * FROM t", {"t"}, set()),
    ("WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a", {"b"}, set()),
    ("WITH a AS (SELECT 1 AS x) SELECT * FROM a JOIN ds.a USING (x)", {"ds.a"}, set()),
    ("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r", set(), set()),
    ("SELECT * FROM (WITH inner_cte AS (SELECT * FROM ds.deep) SELECT * FROM inner_cte)", {"ds.deep"}, set()),
    ("WITH a AS (SELECT * FROM ds.s) INSERT INTO ds.t SELECT * FROM a", {"ds.s"}, {"ds.t"}),
    # subqueries
    ("SELECT * FROM ds.a WHERE id IN (SELECT id FROM ds.b)", {"ds.a", "ds.b"}, set()),
    ("SELECT * FROM ds.a WHERE EXISTS (SELECT 1 FROM ds.b WHERE ds.b.id = ds.a.id)", {"ds.a", "ds.b"}, set()),
    ("SELECT (SELECT MAX(x) FROM ds.m) AS mx, y FROM ds.n", {"ds.m", "ds.n"}, set()),
    ("SELECT * FROM (SELECT * FROM (SELECT * FROM ds.nested) AS a) AS b", {"ds.nested"}, set()),
    ("SELECT * FROM ds.a AS a WHERE a.v > (SELECT AVG(v) FROM ds.a AS b WHERE b.g = a.g)", {"ds.a"}, set()),
    ("SELECT ARRAY(SELECT x FROM ds.arr_src) AS xs", {"ds.arr_src"}, set()),
    # UNNEST, PIVOT, QUALIFY, table functions
    ("SELECT o.id, item FROM ds.orders o, UNNEST(o.items) AS item", {"ds.orders"}, set()),
    ("SELECT o.id, item FROM ds.orders o CROSS JOIN UNNEST(o.items) item", {"ds.orders"}, set()),
    ("SELECT * FROM UNNEST([1, 2, 3]) AS n", set(), set()),
    ("SELECT * FROM UNNEST(GENERATE_DATE_ARRAY('2024-01-01', '2024-02-01')) AS d", set(), set()),
    ("SELECT * FROM ds.sales PIVOT (SUM(amount) FOR quarter IN ('Q1', 'Q2'))", {"ds.sales"}, set()),
    ("SELECT * FROM ds.wide UNPIVOT (val FOR col IN (a, b, c))", {"ds.wide"}, set()),
    ("SELECT * FROM ds.t QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts DESC) = 1", {"ds.t"}, set()),
    ("SELECT * FROM ds.a UNION ALL SELECT * FROM ds.b UNION DISTINCT SELECT * FROM ds.c", {"ds.a", "ds.b", "ds.c"}, set()),
    ("SELECT * FROM ds.a EXCEPT DISTINCT SELECT * FROM ds.b", {"ds.a", "ds.b"}, set()),
    ("SELECT * FROM ds.a INTERSECT DISTINCT SELECT * FROM ds.b", {"ds.a", "ds.b"}, set()),
    ("(SELECT * FROM ds.a) UNION ALL (SELECT * FROM ds.b)", {"ds.a", "ds.b"}, set()),
    ("SELECT * FROM ds.t TABLESAMPLE SYSTEM (10 PERCENT)", {"ds.t"}, set()),
    # BigQuery ML
    ("SELECT * FROM ML.PREDICT(MODEL `p.d.m`, TABLE `p.d.t`)", {"p.d.m", "p.d.t"}, set()),
    ("SELECT * FROM ML.PREDICT(MODEL d.m, (SELECT * FROM d.features))", {"d.m", "d.features"}, set()),
    ("SELECT * FROM ML.EVALUATE(MODEL `p.d.m`, TABLE `p.d.eval`)", {"p.d.m", "p.d.eval"}, set()),
    ("SELECT * FROM ML.EVALUATE(MODEL d.m, (SELECT * FROM d.holdout))", {"d.m", "d.holdout"}, set()),
    ("INSERT INTO d.scores SELECT * FROM ML.PREDICT(MODEL d.m, TABLE d.t)", {"d.m", "d.t"}, {"d.scores"}),
    ("SELECT * FROM ML.DETECT_ANOMALIES(MODEL d.m, STRUCT(0.02 AS contamination), TABLE d.new_rows)", {"d.m", "d.new_rows"}, set()),
    ("SELECT * FROM APPENDS(TABLE d.events, NULL, NULL)", {"d.events"}, set()),
    ("CREATE OR REPLACE MODEL d.m OPTIONS (model_type = 'logistic_reg') AS SELECT * FROM d.training", {"d.training"}, {"d.m"}),
    ("CREATE MODEL d.m OPTIONS (model_type = 'kmeans') AS SELECT * FROM d.f; SELECT * FROM ML.PREDICT(MODEL d.m, TABLE d.t)", {"d.f", "d.t"}, {"d.m"}),
    # CREATE TABLE / VIEW
    ("CREATE TABLE ds.t (id INT64, name STRING)", set(), {"ds.t"}),
    ("CREATE TABLE IF NOT EXISTS ds.t (id INT64) PARTITION BY DATE(_PARTITIONTIME)", set(), {"ds.t"}),
    ("CREATE TABLE ds.t AS SELECT * FROM ds.s", {"ds.s"}, {"ds.t"}),
    ("CREATE OR REPLACE TABLE `p.ds.t` PARTITION BY d CLUSTER BY id AS SELECT * FROM `p.ds.s`", {"p.ds.s"}, {"p.ds.t"}),
    ("CREATE TABLE ds.t OPTIONS (description = 'FROM ds.nope') AS SELECT 1 AS x", set(), {"ds.t"}),
    ("CREATE TABLE ds.copy_t LIKE ds.orig", {"ds.orig"}, {"ds.copy_t"}),
    ("CREATE TABLE ds.t2 CLONE ds.t1", {"ds.t1"}, {"ds.t2"}),
    ("CREATE TABLE ds.t2 CLONE ds.t1 FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01'", {"ds.t1"}, {"ds.t2"}),
    ("CREATE TABLE ds.t2 COPY ds.t1", {"ds.t1"}, {"ds.t2"}),
    ("CREATE SNAPSHOT TABLE ds.snap CLONE ds.live", {"ds.live"}, {"ds.snap"}),
    ("CREATE VIEW ds.v AS SELECT * FROM ds.t", {"ds.t"}, {"ds.v"}),
    ("CREATE OR REPLACE VIEW `p.ds.v` AS SELECT a FROM `p.ds.t`", {"p.ds.t"}, {"p.ds.v"}),
    ("CREATE VIEW IF NOT EXISTS ds.v OPTIONS (friendly_name = 'x') AS SELECT 1 AS one", set(), {"ds.v"}),
    ("CREATE MATERIALIZED VIEW ds.mv AS SELECT id, COUNT(*) AS n FROM ds.t GROUP BY id", {"ds.t"}, {"ds.mv"}),
    ("CREATE OR REPLACE MATERIALIZED VIEW ds.mv PARTITION BY d AS SELECT d FROM ds.t", {"ds.t"}, {"ds.mv"}),
    ("CREATE EXTERNAL TABLE ds.ext OPTIONS (format = 'CSV', uris = ['gs://b/*.csv'])", set(), {"ds.ext"}),
    # INSERT
    ("INSERT INTO ds.t (a, b) SELECT a, b FROM ds.s", {"ds.s"}, {"ds.t"}),
    ("INSERT ds.t (a) VALUES (1), (2)", set(), {"ds.t"}),
    ("INSERT INTO ds.t SELECT * FROM ds.t WHERE d = '2024-01-01'", {"ds.t"}, {"ds.t"}),
    ("INSERT INTO ds.t (a) VALUES ((SELECT MAX(a) FROM ds.s))", {"ds.s"}, {"ds.t"}),
    ("INSERT INTO ds.t WITH c AS (SELECT * FROM ds.s) SELECT * FROM c", {"ds.s"}, {"ds.t"}),
    ("INSERT INTO `p.ds.t` (a, b) (SELECT a, b FROM `p.ds.s`)", {"p.ds.s"}, {"p.ds.t"}),
    # MERGE
    ("MERGE ds.t T USING ds.s S ON T.id = S.id WHEN MATCHED THEN UPDATE SET v = S.v", {"ds.s"}, {"ds.t"}),
    ("MERGE INTO ds.t USING (SELECT * FROM ds.s WHERE d = CURRENT_DATE()) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT ROW", {"ds.s"}, {"ds.t"}),
    ("MERGE ds.t t USING ds.s s ON t.id = s.id WHEN MATCHED AND s.op = 'D' THEN DELETE WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED BY TARGET THEN INSERT (id, v) VALUES (s.id, s.v) WHEN NOT MATCHED BY SOURCE THEN DELETE", {"ds.s"}, {"ds.t"}),
    ("MERGE ds.t t USING ds.s s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, (SELECT MAX(v) FROM ds.defaults))", {"ds.s", "ds.defaults"}, {"ds.t"}),
    ("MERGE ds.t t USING (SELECT a.id, b.v FROM ds.a a JOIN ds.b b USING (id)) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v", {"ds.a", "ds.b"}, {"ds.t"}),
    ("MERGE ds.t t USING (WITH c AS (SELECT * FROM ds.s) SELECT * FROM c) s ON FALSE WHEN NOT MATCHED THEN INSERT ROW", {"ds.s"}, {"ds.t"}),
    ("MERGE ds.t USING ds.s ON ds.t.id = ds.s.id WHEN MATCHED AND ds.t.id IN (SELECT id FROM ds.blocked) THEN DELETE", {"ds.s", "ds.blocked"}, {"ds.t"}),
    # UPDATE / DELETE / TRUNCATE
    ("UPDATE ds.t SET v = 1 WHERE id = 2", set(), {"ds.t"}),
    ("UPDATE ds.t t SET v = s.v FROM ds.s s WHERE t.id = s.id", {"ds.s"}, {"ds.t"}),
    ("UPDATE ds.t SET v = (SELECT MAX(v) FROM ds.s) WHERE TRUE", {"ds.s"}, {"ds.t"}),
    ("UPDATE ds.t SET v = 0 WHERE id IN (SELECT id FROM ds.bad)", {"ds.bad"}, {"ds.t"}),
    ("DELETE FROM ds.t WHERE d < '2020-01-01'", set(), {"ds.t"}),
    ("DELETE ds.t WHERE TRUE", set(), {"ds.t"}),
    ("DELETE FROM ds.t WHERE id IN (SELECT id FROM ds.gdpr_requests)", {"ds.gdpr_requests"}, {"ds.t"}),
    ("DELETE FROM ds.t t WHERE EXISTS (SELECT 1 FROM ds.s s WHERE s.id = t.id)", {"ds.s"}, {"ds.t"}),
    ("TRUNCATE TABLE ds.t", set(), {"ds.t"}),
    # LOAD / EXPORT
    ("LOAD DATA INTO ds.t FROM FILES (format = 'CSV', uris = ['gs://bucket/a.csv'])", {"gs://bucket/a.csv"}, {"ds.t"}),
    ("LOAD DATA OVERWRITE ds.t FROM FILES (format = 'PARQUET', uris = ['gs://b/p/*.parquet'])", {"gs://b/p/*.parquet"}, {"ds.t"}),
    ("EXPORT DATA OPTIONS (uri = 'gs://b/out/*.csv', format = 'CSV') AS SELECT * FROM ds.t", {"ds.t"}, set()),
    ("EXPORT DATA OPTIONS (uri = 'gs://b/x-*.json', format = 'JSON') AS SELECT a.* FROM ds.a a JOIN ds.b USING (id)", {"ds.a", "ds.b"}, set()),
    ("EXPORT DATA WITH CONNECTION `p.us.conn` OPTIONS (uri = 's3://b/*') AS SELECT * FROM ds.t", {"ds.t"}, set()),
    ("SELECT * FROM `p.ds.t$20240101`", {"p.ds.t"}, set()),
    ("CREATE TEMP FUNCTION lookup(k STRING) AS ((SELECT v FROM ds.dim WHERE key = k)); SELECT lookup(k) FROM ds.f", {"ds.dim", "ds.f"}, set()),
    # no lineage
    ("DROP TABLE ds.t", set(), set()),
    ("DROP TABLE IF EXISTS `p.ds.t`", set(), set()),
    ("DROP VIEW ds.v", set(), set()),
    ("ALTER TABLE ds.t ADD COLUMN c STRING", set(), set()),
    ("ALTER TABLE ds.t RENAME TO t2", set(), set()),
    ("ALTER TABLE ds.t SET OPTIONS (expiration_timestamp = TIMESTAMP '2030-01-01')", set(), set()),
    ("GRANT `roles/bigquery.dataViewer` ON TABLE ds.t TO 'user:a@b.c'", set(), set()),
    ("CREATE SCHEMA ds2", set(), set()),
    ("CREATE TEMP FUNCTION f(x INT64) AS (x + 1)", set(), set()),
    ("CREATE FUNCTION ds.f(x INT64) RETURNS INT64 LANGUAGE js AS 'return x;'", set(), set()),
    ("DECLARE d DATE DEFAULT CURRENT_DATE()", set(), set()),
    ("ASSERT (SELECT COUNT(*) FROM ds.t) > 0 AS 'not empty'", {"ds.t"}, set()),
    ("IF x > 0 THEN RAISE USING MESSAGE = 'bad'; END IF; INSERT INTO d.t SELECT * FROM d.s", {"d.s"}, {"d.t"}),
    ("RAISE USING MESSAGE = (SELECT STRING_AGG(msg) FROM d.errors)", {"d.errors"}, set()),
    ("LOOP IF done THEN LEAVE; END IF; INSERT INTO d.t SELECT 1; END LOOP", set(), {"d.t"}),
    ("CALL ds.proc()", set(), set()),
    ("EXECUTE IMMEDIATE 'INSERT INTO ds.t SELECT * FROM ds.s'", set(), set()),
    ("EXECUTE IMMEDIATE FORMAT('SELECT * FROM %s', tbl)", set(), set()),
    ("", set(), set()),
    ("-- only a comment", set(), set()),
    # scripts
    ("CREATE TEMP TABLE tmp AS SELECT * FROM ds.s; INSERT INTO ds.t SELECT * FROM tmp", {"ds.s"}, {"ds.t"}),
    ("CREATE TEMPORARY TABLE tmp (id INT64); INSERT INTO tmp SELECT id FROM ds.a; INSERT INTO ds.t SELECT * FROM tmp", {"ds.a"}, {"ds.t"}),
    ("CREATE TABLE ds.mid AS SELECT * FROM ds.raw; CREATE TABLE ds.out AS SELECT * FROM ds.mid", {"ds.raw"}, {"ds.mid", "ds.out"}),
    ("SELECT * FROM ds.mid; INSERT INTO ds.mid SELECT * FROM ds.raw", {"ds.mid", "ds.raw"}, {"ds.mid"}),
    ("CREATE TABLE ds.t AS SELECT 1 AS x; DROP TABLE ds.t", set(), {"ds.t"}),
    ("DECLARE max_d DATE DEFAULT (SELECT MAX(d) FROM ds.t); DELETE FROM ds.t2 WHERE d > max_d", {"ds.t"}, {"ds.t2"}),
    ("SET max_d = (SELECT MAX(d) FROM ds.watermark)", {"ds.watermark"}, set()),
    ("BEGIN\n  INSERT INTO ds.t SELECT * FROM ds.s;\nEND", {"ds.s"}, {"ds.t"}),
    ("BEGIN TRANSACTION;\nDELETE FROM ds.t WHERE TRUE;\nINSERT INTO ds.t SELECT * FROM ds.s;\nCOMMIT TRANSACTION;", {"ds.s"}, {"ds.t"}),
    ("IF EXISTS (SELECT 1 FROM ds.flags WHERE on) THEN\n  INSERT INTO ds.t SELECT * FROM ds.s;\nELSEIF TRUE THEN\n  DELETE FROM ds.u WHERE TRUE;\nELSE\n  SELECT 1;\nEND IF;", {"ds.flags", "ds.s"}, {"ds.t", "ds.u"}),
    ("WHILE (SELECT COUNT(*) FROM ds.queue) > 0 DO\n  DELETE FROM ds.queue WHERE TRUE;\nEND WHILE;", {"ds.queue"}, {"ds.queue"}),
    ("LOOP\n  INSERT INTO ds.t SELECT * FROM ds.s;\n  LEAVE;\nEND LOOP;", {"ds.s"}, {"ds.t"}),
    ("REPEAT\n  INSERT INTO ds.t SELECT 1;\nUNTIL (SELECT COUNT(*) FROM ds.t) > 3\nEND REPEAT;", set(), {"ds.t"}),
    ("FOR rec IN (SELECT id FROM ds.ids) DO\n  INSERT INTO ds.t SELECT rec.id;\nEND FOR;", {"ds.ids"}, {"ds.t"}),
    ("BEGIN\n  SELECT 1/0;\nEXCEPTION WHEN ERROR THEN\n  INSERT INTO ds.errors SELECT @@error.message;\nEND;", set(), {"ds.errors"}),
    ("CREATE OR REPLACE PROCEDURE ds.load_daily(d DATE)\nBEGIN\n  DECLARE n INT64;\n  CREATE TEMP TABLE staged AS SELECT * FROM ds.raw WHERE day = d;\n  MERGE ds.daily t USING staged s ON t.id = s.id WHEN NOT MATCHED THEN INSERT ROW;\nEND", {"ds.raw"}, {"ds.daily"}),
    ("CREATE PROCEDURE ds.p()\nOPTIONS (strict_mode = FALSE)\nBEGIN\n  INSERT INTO ds.a SELECT * FROM ds.b;\nEND;", {"ds.b"}, {"ds.a"}),
    ("DECLARE x INT64;\nSET x = 1;\nIF x = 1 THEN\n  CREATE OR REPLACE TABLE ds.o AS SELECT * FROM ds.i;\nEND IF;", {"ds.i"}, {"ds.o"}),
    ("EXECUTE IMMEDIATE 'DELETE FROM ds.x WHERE TRUE';\nINSERT INTO ds.t SELECT * FROM ds.s;", {"ds.s"}, {"ds.t"}),
]

OTHER_DIALECTS = [
    ("snowflake", "SELECT * FROM db.sch.tab", {"DB.SCH.TAB"}, set()),
    ("snowflake", 'SELECT * FROM db."MixedCase"', {"DB.MixedCase"}, set()),
    ("snowflake", "CREATE OR REPLACE TRANSIENT TABLE a.b AS SELECT * FROM c.d", {"C.D"}, {"A.B"}),
    ("snowflake", "CREATE TEMPORARY TABLE t AS SELECT * FROM s; INSERT INTO u SELECT * FROM t", {"S"}, {"U"}),
    ("snowflake", "COPY INTO mytab FROM @stage/path FILE_FORMAT = (TYPE = CSV)", {"@STAGE/PATH"}, {"MYTAB"}),
    ("postgres", "INSERT INTO public.t SELECT * FROM public.s ON CONFLICT DO NOTHING", {"public.s"}, {"public.t"}),
    ("postgres", "UPDATE t SET v = s.v FROM s WHERE t.id = s.id", {"s"}, {"t"}),
    ("postgres", "DELETE FROM t USING s WHERE t.id = s.id", {"s"}, {"t"}),
    ("postgres", "SELECT * FROM generate_series(1, 10) AS g", set(), set()),
    ("postgres", 'SELECT * FROM "Schema"."Table"', {"Schema.Table"}, set()),
    ("redshift", "SELECT * INTO TEMP t FROM s; INSERT INTO u SELECT * FROM t", {"s"}, {"u"}),
    ("spark", "CREATE TEMPORARY VIEW v AS SELECT * FROM s; INSERT INTO t SELECT * FROM v", {"s"}, {"t"}),
    ("spark", "INSERT OVERWRITE TABLE t PARTITION (d = '1') SELECT a FROM s LATERAL VIEW explode(xs) e AS a", {"s"}, {"t"}),
    ("databricks", "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *", {"s"}, {"t"}),
    ("hive", "LOAD DATA INPATH '/data/x' OVERWRITE INTO TABLE t", {"/data/x"}, {"t"}),
    ("tsql", "SELECT * INTO #tmp FROM dbo.s; INSERT INTO dbo.t SELECT * FROM #tmp", {"dbo.s"}, {"dbo.t"}),
    ("tsql", "UPDATE a SET a.v = b.v FROM dbo.t AS a JOIN dbo.s AS b ON a.id = b.id", {"dbo.s"}, {"dbo.t"}),
    ("tsql", "DELETE a FROM dbo.t a JOIN dbo.s b ON a.id = b.id", {"dbo.s"}, {"dbo.t"}),
    ("tsql", "IF EXISTS (SELECT 1 FROM dbo.f) BEGIN INSERT INTO dbo.t SELECT * FROM dbo.s END", {"dbo.f", "dbo.s"}, {"dbo.t"}),
    ("tsql", "INSERT INTO dbo.t SELECT * FROM dbo.s\nGO\nINSERT INTO dbo.u SELECT * FROM dbo.t\nGO", {"dbo.s"}, {"dbo.t", "dbo.u"}),
    ("mysql", "UPDATE t1 a JOIN t2 b ON a.id = b.id SET a.v = b.v", {"t2"}, {"t1"}),
    ("mysql", "REPLACE INTO t SELECT * FROM s", {"s"}, {"t"}),
    ("duckdb", "CREATE TABLE t AS SELECT * FROM read_parquet('x.parquet')", set(), {"t"}),
    ("duckdb", "SELECT * FROM 'data/file.csv'", {"data/file.csv"}, set()),
    ("", "SELECT * FROM a.b.c.d", {"a.b.c.d"}, set()),
]


@pytest.mark.parametrize(("sql", "sources", "targets"), BIGQUERY)
def test_bigquery(sql: str, sources: set[str], targets: set[str]) -> None:
    assert_table_lineage(sql, sources, targets)


@pytest.mark.parametrize(("dialect", "sql", "sources", "targets"), OTHER_DIALECTS)
def test_other_dialects(dialect: str, sql: str, sources: set[str], targets: set[str]) -> None:
    assert_table_lineage(sql, sources, targets, dialect=dialect)


def test_information_schema_name_is_region_dot_view() -> None:
    """`region-us`.INFORMATION_SCHEMA.JOBS is named 'region-us.INFORMATION_SCHEMA.JOBS',
    split into (region, INFORMATION_SCHEMA, view) so dataset/name read naturally."""
    got = table_lineage("SELECT * FROM `region-us`.INFORMATION_SCHEMA.JOBS")
    assert got.sources == (TableId(("region-us", "INFORMATION_SCHEMA", "JOBS")),)


def test_statements_edges_and_lines() -> None:
    sql = (
        "CREATE TEMP TABLE tmp AS\nSELECT * FROM ds.a;\n"
        "CREATE TABLE ds.mid AS SELECT * FROM tmp JOIN ds.b USING (id);\n"
        "CREATE VIEW ds.v AS SELECT * FROM ds.mid;\n"
    )
    got = table_lineage(sql)
    t = TableId.parse
    assert got.sources == (t("ds.a"), t("ds.b"))
    assert got.targets == (t("ds.mid"), t("ds.v"))
    assert got.views == (t("ds.v"),)
    assert set(got.edges) == {
        (t("ds.a"), t("ds.mid")),
        (t("ds.b"), t("ds.mid")),
        (t("ds.mid"), t("ds.v")),
    }
    assert [(s.index, s.line_start, s.line_end) for s in got.statements] == [
        (0, 1, 2),
        (1, 3, 3),
        (2, 4, 4),
    ]
    assert [s.kind for s in got.statements] == ["create_table", "create_table", "create_view"]
    assert got.statements[2].creates_view
    assert got.issues == ()


def test_parse_error_keeps_other_statements() -> None:
    sql = "INSERT INTO ds.a SELECT * FROM ds.b;\nSELECT FROM WHERE (;\nINSERT INTO ds.c SELECT * FROM ds.d;"
    got = table_lineage(sql)
    assert {str(s) for s in got.sources} == {"ds.b", "ds.d"}
    assert {str(s) for s in got.targets} == {"ds.a", "ds.c"}
    assert [i.kind for i in got.issues] == ["parse"]
    assert got.issues[0].line == 2


def test_unterminated_string_is_an_issue() -> None:
    got = table_lineage("INSERT INTO ds.a SELECT * FROM ds.b;\nSELECT 'oops FROM ds.c;\n")
    assert {str(s) for s in got.targets} == {"ds.a"}
    assert got.issues and got.issues[0].kind == "parse"


def test_execute_immediate_is_unresolved() -> None:
    got = table_lineage("SELECT 1;\nEXECUTE IMMEDIATE 'INSERT INTO ds.t SELECT 1';")
    assert got.issues == (
        ExtractIssue("unresolved", 2, got.issues[0].message),
    )
    assert "dynamic SQL" in got.issues[0].message
    assert got.targets == ()


def test_jinja_variables_are_rendered() -> None:
    got = table_lineage(
        "INSERT INTO {{ project }}.ds.t SELECT * FROM {{ project }}.ds.s",
        vars={"project": "prod-1"},
    )
    assert [str(t) for t in got.targets] == ["prod-1.ds.t"]
    assert [str(t) for t in got.sources] == ["prod-1.ds.s"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM ML.EVALUATE(MODEL d.m, TABLE d.eval)",
        "SELECT * FROM ML.EXPLAIN_PREDICT(MODEL `p.d.m`, (SELECT * FROM d.x), STRUCT(3 AS top_k_features))",
        "SELECT * FROM CHANGES(TABLE d.t, TIMESTAMP '2024-01-01', NULL)",
    ],
)
def test_table_and_model_arguments_parse_without_issues(sql: str) -> None:
    assert table_lineage(sql).issues == ()


def test_airflow_template_variables_render_without_configuration() -> None:
    got = table_lineage(
        "INSERT INTO ds.daily SELECT * FROM ds.events WHERE d BETWEEN '{{ macros.ds_add(ds, -7) }}' AND '{{ ds }}'"
        " AND ts < '{{ data_interval_end }}' AND run = '{{ ti.xcom_pull(task_ids=\"x\") }}'"
    )
    assert ([str(t) for t in got.sources], [str(t) for t in got.targets]) == (["ds.events"], ["ds.daily"])
    assert got.issues == ()


def test_undefined_jinja_variable_raises_render_error() -> None:
    with pytest.raises(RenderError):
        table_lineage("SELECT * FROM {{ missing }}.t", vars={})


def test_unknown_dialect_is_a_lineage_error() -> None:
    with pytest.raises(LineageError):
        table_lineage("SELECT 1", dialect="no-such-dialect")


def test_corpus_tables_exact_match() -> None:
    cases = corpus_cases("sqllineage_tables.jsonl")
    exact = 0
    misses = []
    for case in cases:
        got = table_lineage(case["sql"], dialect=case["sqlglot_dialect"])
        src = {str(t).lower() for t in got.sources}
        tgt = {str(t).lower() for t in got.targets}
        if (src, tgt) == (set(case["sources"]), set(case["targets"])):
            exact += 1
        else:
            misses.append(case["id"])
        if "exact_case" in case:
            assert sorted(map(str, got.sources)) == case["exact_case"]["sources"], case["id"]
    assert exact / len(cases) >= 0.98, misses


def test_statement_sqlglot_cannot_read_is_flagged_not_guessed_silently() -> None:
    got = table_lineage("CREATE TEMP TABLE s AS\nSELEC a FROM d.src;\nINSERT INTO d.t SELECT * FROM s", "bigquery")
    assert {str(t) for t in got.sources} == {"d.src"} and {str(t) for t in got.targets} == {"d.t"}
    assert [(i.kind, i.line) for i in got.issues] == [("unresolved", 1)]
    assert "typo" in got.issues[0].message
