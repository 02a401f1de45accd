"""The start every page makes: its language, the user its permission admits, the store, its title.

Each ``pages/*_page.py`` ``render`` begins with :func:`open_page` and draws from the
:class:`Page` it returns; what follows is the page's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import streamlit as st

from minqing.auth import User
from minqing.i18n import t
from minqing.store import Store
from minqing.ui.cache import data
from minqing.ui.components import data_as_of, empty_state, guard, lang


@dataclass
class Page:
    """What a page draws from: the language, the signed-in user, the store and its data version.

    Attributes
    ----------
    lang : str
        The language in force (:func:`minqing.ui.components.lang`).
    user : User
        The signed-in user, whose role grants the page's permission.
    store : Store
        The store named by the settings.
    """

    lang: str
    user: User
    store: Store

    @property
    def url(self) -> str:
        """The store's URL: the first part of every cache key."""
        return self.store.url

    @cached_property
    def version(self) -> str:
        """The store's data version when the page first asks (the second part of every cache key)."""
        return data.data_version(self.store)

    def heading(self, key: str, *, as_of: bool = True) -> None:
        """Write the page's title; with ``as_of``, say in the sidebar how fresh the data is (a warning when old)."""
        st.title(t(key, self.lang))
        if as_of:
            data_as_of(self.store, self.lang, sidebar=True)  # beside a map, not above it

    def ticket_span(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """Return the first and last times a ticket was received; when there are none, say so and what to do."""
        first, last = data.ticket_span(self.url, self.version)
        if first is None:
            empty_state("empty.no_tickets", "empty.no_tickets_hint", self.lang)
        return first, last


def open_page(permission: str, heading: str | None = None, *, as_of: bool = True) -> Page:
    """Start a page: check ``permission``, open the store and, given a ``heading``, write it (:meth:`Page.heading`).

    Parameters
    ----------
    permission : str
        What the user's role must grant (:data:`minqing.auth.PERMISSIONS`); else
        :class:`minqing.auth.PermissionDenied` is raised and the app shows why.
    heading : str, optional
        The i18n key of the page's title; without one the page writes it itself
        (with :meth:`Page.heading`), e.g. inside a styled container.
    as_of : bool
        With the heading, say in the sidebar how fresh the data is.
    """
    page = Page(lang(), guard(permission), data.current_store())
    if heading is not None:
        page.heading(heading, as_of=as_of)
    return page
