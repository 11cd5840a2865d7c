"""Async diagnostics that answer the questions the move to ASGI raises.

* :mod:`.audit` (pure): the MIDDLEWARE chain as Django's async handler builds it, the thread hops
  it costs per request, and what to change; :mod:`.audit_server` reads the chain from Django and
  times the hops in the server process.
* :mod:`.probe` (httpx only): fire N requests with concurrency C at one or two URLs and compare.
* :mod:`.replay` (httpx only): re-send a captured request and diff the answer with the original.
* :mod:`.commands`, :mod:`.replay_command`: ``asgi-dash probe`` and ``asgi-dash replay``.

Nothing in this package imports Textual; only :mod:`.audit_server` imports Django, and only the
server process imports it (the layer contracts in ``pyproject.toml`` check both).
"""
