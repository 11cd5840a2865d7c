"""Re-send a captured request and diff the answer against the original (no Textual, no Django).

Typically after a reload: "what does this request return *now*?". The request is rebuilt from a
:class:`~asgi_dashboard.events.RequestFinished` (method, path + query, headers, body) and sent
with httpx to the running server; :func:`diff_response` compares status, headers, body and
timing with what the event recorded.

Decisions:

* Hop-by-hop headers (RFC 9110 section 7.6.1, plus ``keep-alive``/``proxy-connection``),
  ``content-length`` (httpx computes it), ``host`` (the server may now listen on another port)
  and our own probe/replay markers are not re-sent. Cookies and CSRF headers are: replaying a
  logged-in POST is the point. A capture made without ``--keep-secrets`` has them redacted
  (:mod:`asgi_dashboard.redact`): "[redacted]" is never sent as a cookie; the header is left out
  and :func:`missing_secrets` names it, so the command can say the replay is unauthenticated.
* A body the tap truncated is not re-sent half: :class:`ReplayError`.
* JSON bodies are pretty-printed with sorted keys before diffing, so a changed value shows as one
  changed line. The original preview may be truncated: the new body is then compared on the same
  prefix, and the diff says so. Binary (base64) bodies are compared by bytes, not diffed.
* ``date`` and ``server-timing`` change on every response, and the tap records the headers the
  *application* sent while the replay sees Uvicorn's additions (``server``, framing): those are
  listed as volatile, not as differences.
"""

from __future__ import annotations

import base64
import difflib
import json
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from ..events import Header, RequestFinished
from ..formatting import ms
from ..redact import REDACTED, is_sensitive, redacted_headers

REPLAY_HEADER = "x-asgi-dash-replay"
DROPPED_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
        "x-asgi-dash-probe",
        REPLAY_HEADER,
    }
)
#: Not compared: they change on every response (``date``, ``server-timing``), or the server adds
#: them on the wire while the tap records what the application sent (``server``, framing).
VOLATILE_HEADERS = frozenset(
    {"date", "server-timing", "server", "connection", "keep-alive", "transfer-encoding"}
)
#: Bounds: diff input per side, and lines of diff output.
DIFF_INPUT_LIMIT = 64 * 1024
DIFF_LINES_LIMIT = 400


def missing_secrets(original: RequestFinished) -> tuple[str, ...]:
    """Headers the capture redacted, which the replay therefore cannot send."""
    return redacted_headers(original.request_headers)


class ReplayError(ValueError):
    """This request cannot be replayed faithfully."""


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    method: str
    url: str
    headers: tuple[Header, ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class ReplayResponse:
    status: int
    headers: tuple[Header, ...]
    body: bytes
    #: Client-side: from sending the request to having the whole body.
    elapsed_ns: int


@dataclass(frozen=True, slots=True)
class HeaderChange:
    name: str
    #: Values joined with ", " (None: absent on that side).
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class ReplayDiff:
    original_id: str
    request_line: str
    status_before: int
    status_after: int
    header_changes: tuple[HeaderChange, ...]
    volatile: tuple[str, ...]
    body_same: bool
    #: Unified diff lines (bounded); empty when the bodies are equal or binary.
    body_diff: tuple[str, ...]
    body_note: str
    size_before: int
    size_after: int
    #: Server-side total of the original; client-side elapsed of the replay (and the server's
    #: total for the replay, when its event is known).
    total_ns_before: int
    elapsed_ns_after: int
    total_ns_after: int | None = None

    @property
    def same(self) -> bool:
        return (
            self.status_before == self.status_after and self.body_same and not (self.header_changes)
        )


def _body_bytes(text: str, is_b64: bool) -> bytes:
    if is_b64:
        return base64.b64decode(text)
    return text.encode("utf-8")


def build_request(original: RequestFinished, base_url: str) -> ReplayRequest:
    """The request to re-send to ``base_url`` (scheme://host:port of the running server)."""
    if original.request_body_truncated:
        raise ReplayError(
            f"the request body of {original.method} {original.path} was truncated when captured: "
            "replaying part of it would not be the same request"
        )
    target = original.path + (f"?{original.query}" if original.query else "")
    kept = [
        (k, v)
        for k, v in original.request_headers
        if k.lower() not in DROPPED_HEADERS and not (is_sensitive(k) and v == REDACTED)
    ]
    headers = (*kept, (REPLAY_HEADER, original.id))
    return ReplayRequest(
        method=original.method,
        url=urljoin(base_url.rstrip("/") + "/", target.lstrip("/")),
        headers=headers,
        body=_body_bytes(original.request_body, original.request_body_b64),
    )


async def send(
    request: ReplayRequest,
    *,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ReplayResponse:
    """Send it once, no redirects followed (the original's status is what we compare)."""
    async with httpx.AsyncClient(timeout=timeout, transport=transport) as client:
        start = time.perf_counter_ns()
        response = await client.request(
            request.method,
            request.url,
            headers=list(request.headers),
            content=request.body or None,
        )
        body = await response.aread()
        elapsed = time.perf_counter_ns() - start
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)
    return ReplayResponse(response.status_code, headers, body, elapsed)


def _grouped(headers: tuple[Header, ...]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for k, v in headers:
        out.setdefault(k.lower(), []).append(v)
    return {k: ", ".join(v) for k, v in out.items()}


def diff_headers(
    before: tuple[Header, ...], after: tuple[Header, ...]
) -> tuple[tuple[HeaderChange, ...], tuple[str, ...]]:
    """(changes, volatile header names that differed), names lower-cased and sorted."""
    a, b = _grouped(before), _grouped(after)
    changes, volatile = [], []
    for name in sorted(a.keys() | b.keys()):
        if a.get(name) == b.get(name):
            continue
        if name in VOLATILE_HEADERS:
            volatile.append(name)
        else:
            changes.append(HeaderChange(name, a.get(name), b.get(name)))
    return tuple(changes), tuple(volatile)


def _pretty(text: str) -> str:
    """Sorted, indented JSON when the text is JSON; else the text itself."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
        except ValueError:
            pass
    return text


def diff_bodies(
    before: str,
    after: str,
    *,
    label_before: str = "original",
    label_after: str = "replay",
    limit: int = DIFF_LINES_LIMIT,
) -> tuple[str, ...]:
    """A bounded unified diff of two text bodies (JSON pretty-printed first)."""
    a = _pretty(before[:DIFF_INPUT_LIMIT]).splitlines()
    b = _pretty(after[:DIFF_INPUT_LIMIT]).splitlines()
    lines = [
        line.rstrip("\n")
        for line in difflib.unified_diff(a, b, label_before, label_after, lineterm="", n=2)
    ]
    if len(lines) > limit:
        lines = [*lines[:limit], f"... {len(lines) - limit} more diff lines"]
    return tuple(lines)


def diff_response(
    original: RequestFinished, response: ReplayResponse, *, total_ns_after: int | None = None
) -> ReplayDiff:
    """Compare the replay's answer with what the original event recorded."""
    old = _body_bytes(original.response_body, original.response_body_b64)
    new = response.body
    note = ""
    if original.response_body_truncated:
        new_cmp = new[: len(old)]
        note = f"original body was captured truncated: compared its first {len(old)} bytes"
    else:
        new_cmp = new
    same = old == new_cmp
    lines: tuple[str, ...] = ()
    if not same:
        if original.response_body_b64:
            note = note or "binary body: compared bytes, no text diff"
        else:
            try:
                lines = diff_bodies(old.decode("utf-8"), new_cmp.decode("utf-8"))
            except UnicodeDecodeError:
                note = note or "body is not UTF-8 text: compared bytes, no text diff"
            else:
                if not lines:
                    note = note or "the bytes differ only in JSON formatting (same data)"
    changes, volatile = diff_headers(original.response_headers, response.headers)
    target = original.path + (f"?{original.query}" if original.query else "")
    return ReplayDiff(
        original_id=original.id,
        request_line=f"{original.method} {target}",
        status_before=original.status,
        status_after=response.status,
        header_changes=changes,
        volatile=volatile,
        body_same=same,
        body_diff=lines,
        body_note=note,
        size_before=original.response_size,
        size_after=len(new),
        total_ns_before=original.total_ns,
        elapsed_ns_after=response.elapsed_ns,
        total_ns_after=total_ns_after,
    )


async def replay(
    original: RequestFinished,
    base_url: str,
    *,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ReplayDiff:
    """Re-send ``original`` to the server at ``base_url`` and diff the answer."""
    response = await send(build_request(original, base_url), timeout=timeout, transport=transport)
    return diff_response(original, response)


def format_diff(diff: ReplayDiff) -> str:
    """Plain text: status, headers, timing, then the body diff."""
    status = (
        f"status {diff.status_before} (unchanged)"
        if diff.status_before == diff.status_after
        else f"status {diff.status_before} -> {diff.status_after}"
    )
    verdict = "same response" if diff.same else "response changed"
    lines = [f"replay of {diff.request_line} [{diff.original_id}]: {verdict}", f"  {status}"]
    timing = f"  time: original {ms(diff.total_ns_before, unit=True)} (server), "
    timing += f"replay {ms(diff.elapsed_ns_after, unit=True)} (client)"
    if diff.total_ns_after is not None:
        timing += f", {ms(diff.total_ns_after, unit=True)} (server)"
    lines.append(timing)
    for change in diff.header_changes:
        if change.before is None:
            lines.append(f"  + {change.name}: {change.after}")
        elif change.after is None:
            lines.append(f"  - {change.name}: {change.before}")
        else:
            lines.append(f"  ~ {change.name}: {change.before} -> {change.after}")
    if diff.volatile:
        lines.append(f"  (changed as always: {', '.join(diff.volatile)})")
    size = f"{diff.size_before} -> {diff.size_after} bytes"
    lines.append(f"  body: {'same' if diff.body_same else 'changed'} ({size})")
    if diff.body_note:
        lines.append(f"  note: {diff.body_note}")
    lines += [f"  {line}" for line in diff.body_diff]
    return "\n".join(lines)
