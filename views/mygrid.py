"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.mygrid_page."""

from minqing.ui.pages.mygrid_page import render

render()
