"""Analysis: pure functions over tickets and units; no Streamlit."""
