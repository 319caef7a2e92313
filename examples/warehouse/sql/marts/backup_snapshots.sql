-- Nightly safety copies of the two tables that are expensive to rebuild:
-- a zero-copy CLONE of the order fact for the run day, and a full COPY of the
-- customer dimension (overwritten each night).
-- Airflow: dag=acme_maintenance_daily, task=backup_core_tables

CREATE TABLE IF NOT EXISTS `{{ params.project }}.marts.fct_orders_backup_{{ ds_nodash }}`
CLONE `{{ params.project }}.marts.fct_orders`;

CREATE OR REPLACE TABLE `{{ params.project }}.marts.dim_customers_backup`
COPY `{{ params.project }}.marts.dim_customers`;
