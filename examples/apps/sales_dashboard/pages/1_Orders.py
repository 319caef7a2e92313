"""Orders page of the sales dashboard (a Streamlit multipage app page)."""

import pandas as pd
import streamlit as st

st.title("Orders")
orders = pd.read_gbq(
    "SELECT order_id, order_date, status, total_usd "
    "FROM `acme-analytics.marts.fct_orders` "
    "WHERE order_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 30 DAY)",
    project_id="acme-analytics",
)
st.dataframe(orders)
