"""When the cyclic garbage collector's full passes run: when the user is not typing.

Under load the dashboard holds ~145,000 tracked objects (its modules and widgets, plus ~10 per
request in the history), and each automatic full collection walked all of them: 80-120 ms with
the UI frozen, about once a second at ~700 requests/s, so one key press in four waited for one
(bench figure 3). :func:`settle_gc` takes full passes off the automatic schedule once the UI is
up; the app runs them when :func:`full_gc_due` says so. No Textual here.
"""

from __future__ import annotations

import gc

#: A full garbage collection runs when no key or mouse input came for this long ...
GC_QUIET_S = 1.0
#: ... at most this often ...
GC_EVERY_S = 10.0
#: ... and at the latest after this long, input or not.
GC_AT_LATEST_S = 60.0


def settle_gc() -> None:
    """Keep the cyclic garbage collector's full passes out of the user's way.

    Objects alive once the UI is up (modules, Textual, the screens) are moved out of the
    collector's sight with ``gc.freeze()``, as CPython's docs suggest after start-up, and
    automatic full passes are turned off: the app runs them when the user is not typing.
    Younger generations are collected as usual, and the request history is not cyclic:
    reference counting frees it as the ring buffer turns over.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000_000)


def full_gc_due(now: float, last_input: float, last_full_gc: float) -> bool:
    """Whether a full collection should run now (all times from ``time.monotonic()``)."""
    since_full = now - last_full_gc
    quiet = now - last_input >= GC_QUIET_S
    return (quiet and since_full >= GC_EVERY_S) or since_full >= GC_AT_LATEST_S
