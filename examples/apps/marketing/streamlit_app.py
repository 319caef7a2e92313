"""Marketing performance: return on ad spend and the conversion funnel."""

import streamlit as st

st.title("Marketing performance")
conn = st.connection("bigquery")

# a query kept in a .sql file, opened relative to the app
with open("roas.sql") as handle:
    roas_sql = handle.read()
st.dataframe(conn.query(roas_sql, ttl=3600))

# an f-string with a part only known at run time: the table is still found, the query is partial
country = st.selectbox("country", ["jp", "us", "de"])
funnel = conn.query(f"SELECT step, users FROM `acme-analytics.reporting.rpt_funnel` WHERE country = '{country}'")
st.bar_chart(funnel, x="step", y="users")

# the dataset comes from secrets: this table cannot be resolved from the code
dataset = st.secrets["support_dataset"]
sla = conn.query(f"SELECT * FROM `acme-analytics.{dataset}.rpt_support_sla`")
st.dataframe(sla)
