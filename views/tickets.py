"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.tickets_page."""

from minqing.ui.pages.tickets_page import render

render()
