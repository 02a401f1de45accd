"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.admin_page."""

from minqing.ui.pages.admin_page import render

render()
