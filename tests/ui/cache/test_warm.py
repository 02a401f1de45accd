"""The cache warmer reads what the default views need into the very cache entries they use."""

from __future__ import annotations

import threading

import pytest

from minqing.auth import User
from minqing.model import CHANNEL_CHOICES, channels_for
from minqing.store import TicketFilter
from minqing.ui.cache import hotspots as hd
from minqing.ui.cache import warm


def test_warm_fills_the_entries_the_hotspots_page_reads(store, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", store.url)
    hd.tickets.clear()
    version = store.data_version()
    stop = threading.Event()
    calls = []
    real = warm.warm

    def once(url, v):
        real(url, v)
        calls.append(v)
        stop.set()  # one round is enough here

    monkeypatch.setattr(warm, "warm", once)
    warm.keep_warm(interval=0.01, stop=stop)
    assert calls == [version]
    # the page asks with its viewer's scope: an unscoped viewer finds the frame already read
    from minqing.ui.cache.data import get_store

    monkeypatch.setattr(type(get_store(store.url)), "read_tickets",
                        lambda *a, **k: pytest.fail("read again: the warm-up missed the page's cache entry"))
    where = hd.scoped(TicketFilter(channels=channels_for(CHANNEL_CHOICES[0])), User(role="admin"))
    assert len(hd.tickets(store.url, version, where)) == store.ticket_count()


def test_off_when_the_setting_says_so(monkeypatch):
    monkeypatch.setenv("MINQING_WARM_CACHES", "0")
    assert warm.start() is None
