"""Every st.cache_* of the app and the page computations they hold."""
