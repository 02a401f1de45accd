"""Keep the heaviest caches warm off the request path: at start and after every import.

A page's first visit on a 1,000,000-ticket store otherwise waits for the analysis frame to be
read (several seconds) — after a restart, and again after every import, since an import changes
the data version that keys every cache. A daemon thread watches the version (one small query
every ``interval`` seconds) and reads what the default views need before anyone asks.
"""

from __future__ import annotations

import threading

from minqing.store import TicketFilter

INTERVAL_S = 30.0
WARM_SETTING = "MINQING_WARM_CACHES"


def warm(url: str, version: str) -> None:
    """Read the frames behind the default views of ``version`` into the shared caches."""
    from minqing.auth import User
    from minqing.model import CHANNEL_CHOICES, channels_for
    from minqing.ui.cache import data
    from minqing.ui.cache import hotspots as hd

    from minqing.ui.cache import effects as di

    viewer = User(role="planner")  # every unscoped viewer shares these entries (see data_hotspots.scoped)
    hd.tickets(url, version, hd.scoped(TicketFilter(channels=channels_for(CHANNEL_CHOICES[0])), viewer))
    hd.links(url, version)
    hd.h3_weights(url, version, 9)
    data.places(url, version)
    ivs = di.interventions(url, version)
    if len(ivs):  # the Effects page opens on the newest intervention with the widest ring
        di.evaluation(url, version, int(ivs["intervention_id"].astype(int).iloc[-1]), di.RING_CHOICES[-1])
    hd.tickets(url, version, hd.scoped(TicketFilter(), viewer))  # the channel mix: every channel


def keep_warm(interval: float = INTERVAL_S, stop: threading.Event | None = None) -> None:
    """Warm the caches now and whenever the data version changes, until ``stop`` is set."""
    from minqing.errlog import log_unexpected
    from minqing.ui.cache import data

    stop = stop or threading.Event()
    last = None
    while not stop.is_set():
        try:
            store = data.current_store()
            version = data.data_version(store)
            if version != last:
                warm(store.url, version)
                last = version
        except Exception as exc:  # noqa: BLE001 - a failed warm-up only means a slower first visit
            log_unexpected(exc, where="cache warm-up")
        stop.wait(interval)


_started: list[threading.Thread] = []
_lock = threading.Lock()


def start(interval: float = INTERVAL_S) -> threading.Thread | None:
    """Start :func:`keep_warm` once per process in a daemon thread.

    ``MINQING_WARM_CACHES=0`` (environment or secrets) turns it off: the tests do, since a
    test's store comes and goes and a warmer there would only read what no one asks for.
    """
    from minqing.config import setting

    if (setting(WARM_SETTING) or "1") == "0":
        return None
    with _lock:
        if not _started:
            thread = threading.Thread(target=keep_warm, args=(interval,), name="minqing-cache-warm", daemon=True)
            thread.start()
            _started.append(thread)
        return _started[0]
