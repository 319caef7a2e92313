"""Churn watch: customers most likely to churn, for the retention team."""

import streamlit as st
from google.cloud import bigquery

WATCHLIST_SQL = """
SELECT customer_id, churn_probability, lifetime_value_usd
FROM `acme-analytics.reporting.v_churn_watchlist`
ORDER BY churn_probability DESC
"""

st.title("Churn watch")
watchlist = bigquery.Client().query(WATCHLIST_SQL).to_dataframe()
st.dataframe(watchlist)

# DataFrame.query is pandas, not SQL: not a warehouse read
st.dataframe(watchlist.query("churn_probability > 0.8"))
