"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.hotspots_page."""

from minqing.ui.pages.hotspots_page import render

render()
