-- marts.fct_sessions: sessions attributed to the orders they converted into, plus the
-- daily rollup marts.fct_sessions_daily. `params.full_refresh` rebuilds all history;
-- the normal run replaces the run day only.
-- Airflow: dag=acme_marts_daily, task=build_fct_sessions

DECLARE run_date DATE DEFAULT DATE '{{ ds }}';
DECLARE full_refresh BOOL DEFAULT {{ params.full_refresh }};

IF full_refresh THEN
  CREATE OR REPLACE TABLE `{{ params.project }}.marts.fct_sessions`
  PARTITION BY session_date
  AS
  SELECT s.*, o.order_id, o.gross_amount_usd AS order_amount_usd
  FROM `{{ params.project }}.staging.stg_sessions` AS s
  LEFT JOIN UNNEST(s.transaction_ids) AS transaction_id
  LEFT JOIN `{{ params.project }}.marts.fct_orders` AS o ON o.order_id = transaction_id;
ELSE
  DELETE FROM `{{ params.project }}.marts.fct_sessions`
  WHERE session_date = run_date;

  INSERT INTO `{{ params.project }}.marts.fct_sessions`
  SELECT s.*, o.order_id, o.gross_amount_usd AS order_amount_usd
  FROM `{{ params.project }}.staging.stg_sessions` AS s
  LEFT JOIN UNNEST(s.transaction_ids) AS transaction_id
  LEFT JOIN `{{ params.project }}.marts.fct_orders` AS o ON o.order_id = transaction_id
  WHERE s.session_date = run_date;
END IF;

CREATE OR REPLACE TABLE `{{ params.project }}.marts.fct_sessions_daily` AS
SELECT
  session_date,
  traffic_source,
  traffic_medium,
  traffic_campaign,
  COUNT(*) AS sessions,
  COUNT(DISTINCT user_pseudo_id) AS users,
  COUNT(DISTINCT order_id) AS orders,
  SUM(order_amount_usd) AS revenue_usd
FROM `{{ params.project }}.marts.fct_sessions`
GROUP BY session_date, traffic_source, traffic_medium, traffic_campaign;
