"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.map_page."""

from minqing.ui.pages.map_page import render

render()
