"""Sales dashboard: daily revenue and revenue by country for the sales team."""

from pathlib import Path

import streamlit as st
from google.cloud import bigquery

PROJECT = "acme-analytics"
QUERIES = Path(__file__).parent / "queries"

st.set_page_config(page_title="Sales dashboard", layout="wide")
client = bigquery.Client(project=PROJECT)


@st.cache_data(ttl=600)
def run_query(sql: str):
    return client.query(sql).to_dataframe()


days = st.slider("days", 7, 90, 30)

# an f-string whose parts are all known (PROJECT is a module constant): fully resolved
revenue = client.query(
    f"""
    SELECT order_date, revenue_usd, orders
    FROM `{PROJECT}.reporting.rpt_daily_revenue`
    ORDER BY order_date DESC
    """
).to_dataframe()
st.line_chart(revenue, x="order_date", y="revenue_usd")

# through the cached wrapper above: its callers are the queries
by_country = run_query("SELECT country, revenue_usd FROM `acme-analytics.reporting.rpt_revenue_by_country`")
st.bar_chart(by_country, x="country", y="revenue_usd")

# a .sql file next to the app
top_customers = run_query((QUERIES / "top_customers.sql").read_text())
st.dataframe(top_customers)
