"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.interventions_page."""

from minqing.ui.pages.interventions_page import render

render()
