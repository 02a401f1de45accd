"""Page script run by st.navigation; the page itself lives in minqing.ui.pages.meeting_page."""

from minqing.ui.pages.meeting_page import render

render()
