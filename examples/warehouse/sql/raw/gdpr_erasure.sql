-- GDPR / APPI erasure: remove personal data of customers whose erasure request is due.
-- Requests are recorded by the privacy portal in the ingest project (read only here).
-- Airflow: dag=acme_privacy_daily, task=apply_erasure_requests

DELETE FROM `{{ params.project }}.raw.customers`
WHERE customer_id IN (
  SELECT r.customer_id
  FROM `{{ params.landing_project }}.landing.privacy_erasure_requests` AS r
  WHERE r.status = 'approved'
    AND DATE(r.requested_at) <= DATE_SUB(DATE '{{ ds }}', INTERVAL 1 DAY)
);

-- GA4 keys users by user_id (our customer id) once they log in.
DELETE FROM `{{ params.project }}.raw.ga4_events`
WHERE user_id IN (
  SELECT r.customer_id
  FROM `{{ params.landing_project }}.landing.privacy_erasure_requests` AS r
  WHERE r.status = 'approved'
    AND DATE(r.requested_at) <= DATE_SUB(DATE '{{ ds }}', INTERVAL 1 DAY)
);
