"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.import_page."""

from minqing.ui.pages.import_page import render

render()
