-- reporting.rpt_funnel: daily conversion funnel (session -> cart -> checkout -> order).
-- Note: the CTE below is deliberately named like the mart it filters; inside this
-- query `fct_sessions` means the CTE, not a table.
-- Airflow: dag=acme_reporting_daily, task=build_rpt_funnel

CREATE OR REPLACE TABLE `{{ params.project }}.{{ params.report_dataset }}.rpt_funnel` AS
WITH fct_sessions AS (
  SELECT session_date, session_id, order_id, page_views
  FROM marts.fct_sessions
  WHERE session_date > DATE_SUB(DATE '{{ ds }}', INTERVAL 90 DAY)
),
funnel_events AS (
  SELECT
    event_date,
    CONCAT(user_pseudo_id, '-', CAST(ga_session_id AS STRING)) AS session_id,
    LOGICAL_OR(event_name = 'add_to_cart') AS added_to_cart,
    LOGICAL_OR(event_name = 'begin_checkout') AS began_checkout
  FROM raw.ga4_events
  WHERE event_date > DATE_SUB(DATE '{{ ds }}', INTERVAL 90 DAY)
    AND ga_session_id IS NOT NULL
  GROUP BY event_date, session_id
)
SELECT
  f.session_date,
  COUNT(*) AS sessions,
  COUNTIF(f.page_views > 1) AS engaged_sessions,
  COUNTIF(e.added_to_cart) AS cart_sessions,
  COUNTIF(e.began_checkout) AS checkout_sessions,
  COUNTIF(f.order_id IS NOT NULL) AS order_sessions,
  SAFE_DIVIDE(COUNTIF(f.order_id IS NOT NULL), COUNT(*)) AS conversion_rate
FROM fct_sessions AS f
LEFT JOIN funnel_events AS e
  ON e.session_id = f.session_id AND e.event_date = f.session_date
GROUP BY f.session_date;
