"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.settings_page."""

from minqing.ui.pages.settings_page import render

render()
