"""Django's own record of a request sequence: run inside ``manage.py shell -c``.

This file is executed by ``python manage.py shell -c "exec(open(PATH).read())"`` in a copy of a
generated project, so the settings, environment and ``.env`` loading are exactly what the
project's own ``manage.py`` gives. It replays the steps in ``$REALPROJECT_STEPS`` (JSON, see
``sequence.py``) with ``django.test.Client`` and, per request, writes to ``$REALPROJECT_OUT``
(JSON): status, ``response.resolver_match`` (the dotted path of what the URLconf holds, route,
url name), the kind per ``asgiref.sync.iscoroutinefunction`` of the resolved callable (the test
``BaseHandler`` makes), the statements ``CaptureQueriesContext`` captured, and what the project's
own logging handlers wrote while the request ran.
"""

import io
import json
import logging
import os
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404


def _dotted(func: Any) -> str:
    view_class = getattr(func, "view_class", None) or getattr(func, "cls", None)
    target = view_class if view_class is not None else func
    return f"{target.__module__}.{target.__qualname__}"


class _RecordWrites(io.StringIO):
    """A stream for the project's handlers: ``StreamHandler.emit`` writes one record per call."""

    def __init__(self, sink: list[dict[str, Any]], loggers: list[str]) -> None:
        super().__init__()
        self.sink = sink
        self.loggers = loggers

    def write(self, text: str) -> int:
        self.sink.append({"loggers": self.loggers, "text": text})
        return len(text)


def _project_stream_handlers() -> dict[logging.StreamHandler[Any], list[str]]:
    """Every ``StreamHandler`` configured, with the names of the loggers it is attached to."""
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    attached: dict[logging.StreamHandler[Any], list[str]] = {}
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler):
                attached.setdefault(handler, []).append(logger.name)
    return attached


def _resolve(response: Any) -> Any:
    match = response.resolver_match  # a SimpleLazyObject: resolves on first use
    try:
        match.func  # noqa: B018
    except Resolver404:
        return None
    return match


def _run(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False, HTTP_HOST="127.0.0.1")
    handlers = _project_stream_handlers()
    results = []
    for step in steps:
        data = ""
        content_type = "application/octet-stream"
        headers = dict(step.get("headers") or {})
        token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
        if step.get("form") is not None:
            form = dict(step["form"])
            if step.get("csrf") == "form":
                form["csrfmiddlewaretoken"] = token
            data = urlencode(form)
            content_type = "application/x-www-form-urlencoded"
        elif step.get("json") is not None:
            data = json.dumps(step["json"])
            content_type = "application/json"
        if step.get("csrf") == "header":
            headers["X-CSRFToken"] = token
        written: list[dict[str, Any]] = []
        for handler, names in handlers.items():
            handler.setStream(_RecordWrites(written, names))
        with CaptureQueriesContext(connection) as ctx:
            response = client.generic(
                step["method"], step["path"], data, content_type=content_type, headers=headers
            )
            body = b"" if response.streaming else response.content
        match = _resolve(response)
        results.append(
            {
                "label": step["label"],
                "status": response.status_code,
                "django_view": _dotted(match.func) if match else None,
                "route": match.route if match else None,
                "url_name": match.url_name if match else None,
                "view_name": match.view_name if match else None,
                "kind": (
                    ("async" if iscoroutinefunction(match.func) else "sync") if match else None
                ),
                "sql_count": len(ctx.captured_queries),
                "sql": [q["sql"] for q in ctx.captured_queries],
                "body": body.decode("utf-8", "replace")[:2000],
                "log_writes": written,
            }
        )
    return results


with open(os.environ["REALPROJECT_STEPS"]) as _f:
    _results = _run(json.load(_f))
with open(os.environ["REALPROJECT_OUT"], "w") as _f:
    json.dump(_results, _f)
