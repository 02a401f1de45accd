"""The Streamlit face: the only package (besides app.py) that imports Streamlit."""
