"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.effects_page."""

from minqing.ui.pages.effects_page import render

render()
