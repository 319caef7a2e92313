-- Top customers by lifetime value, with their segment.
SELECT
  c.customer_id,
  c.customer_name,
  l.lifetime_value_usd,
  s.segment
FROM `acme-analytics.marts.customer_ltv` AS l
JOIN `acme-analytics.marts.dim_customers` AS c USING (customer_id)
LEFT JOIN `acme-analytics.reporting.rpt_customer_segments` AS s USING (customer_id)
ORDER BY l.lifetime_value_usd DESC
LIMIT 100
