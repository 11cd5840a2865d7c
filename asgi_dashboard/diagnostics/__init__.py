"""Async diagnostics that answer the questions the move to ASGI raises.

* :mod:`.audit` (server process, needs Django): the MIDDLEWARE chain as Django's async handler
  builds it, the thread hops it costs per request, and what to change.
* :mod:`.probe` (httpx only): fire N requests with concurrency C at one or two URLs and compare.
* :mod:`.replay` (httpx only): re-send a captured request and diff the answer with the original.

Nothing in this package imports Textual; only :mod:`.audit` imports Django, and only inside its
functions, so the UI can import :mod:`.probe`, :mod:`.replay` and :func:`.audit.format_audit`.
"""
