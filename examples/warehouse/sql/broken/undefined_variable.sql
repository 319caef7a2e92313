-- DELIBERATELY BROKEN (example of a render error for the demo's error page).
-- `params.missing_dataset` is defined at no level of lineage.yaml: rendering must fail
-- on line 7 naming the variable, instead of inventing a table with an empty dataset.
-- Airflow: not scheduled (kept out of every DAG)

CREATE OR REPLACE TABLE `{{ params.project }}.marts.partner_orders` AS
SELECT * FROM `{{ params.project }}.{{ params.missing_dataset }}.marketplace_orders` AS p
WHERE p.order_date = DATE '{{ ds }}'
  AND p.partner_id IN ('rakuten', 'amazon_jp', 'zalando')
  AND p.status != 'cancelled';
