-- marts.churn_scores: daily churn probability per active customer.
-- The model marts.churn_model is trained monthly by the data-science repository;
-- here it is only applied (ML.PREDICT over the feature table).
-- Airflow: dag=acme_ml_daily, task=score_churn

DELETE FROM `{{ params.project }}.marts.churn_scores`
WHERE snapshot_date = DATE '{{ ds }}';

INSERT INTO `{{ params.project }}.marts.churn_scores` (
  snapshot_date,
  customer_id,
  churn_probability,
  risk_band,
  model_version
)
SELECT
  snapshot_date,
  customer_id,
  prob.prob AS churn_probability,
  CASE
    WHEN prob.prob >= 0.7 THEN 'high'
    WHEN prob.prob >= 0.4 THEN 'medium'
    ELSE 'low'
  END AS risk_band,
  'churn_model@2026-11' AS model_version
FROM ML.PREDICT(
  MODEL `{{ params.project }}.marts.churn_model`,
  TABLE `{{ params.project }}.marts.churn_features`
) AS p,
UNNEST(p.predicted_churned_probs) AS prob
WHERE prob.label = TRUE;
