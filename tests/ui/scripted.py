"""A scripted runtime and fixed sample events for UI tests (no processes, no sockets).

Every event has a fixed ``ts`` and fixed durations so snapshots are stable; the UI tests set
``TZ=UTC`` (see ``conftest.py``) so the clock column renders the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from asgi_dashboard.config import DashboardConfig
from asgi_dashboard.events import (
    CheckMessage,
    ConsoleOutput,
    Event,
    ExceptionInfo,
    FrameInfo,
    LogRecord,
    LoopBlocked,
    RequestFinished,
    ServerFailed,
    ServerStarted,
    ServerStarting,
    SqlQuery,
    WsAccepted,
    WsClosed,
    WsOpened,
)
from asgi_dashboard.runtime.base import EventCallback, Runtime

#: 2025-01-02 03:04:05 UTC: every sample event is a few seconds after this.
T0 = 1_735_787_045.0
MS = 1_000_000


def make_config(**kw: object) -> DashboardConfig:
    return DashboardConfig(
        project_dir=Path("/tmp/x"),
        settings_module="demosite.settings",
        settings_source="manage.py",
        **kw,  # type: ignore[arg-type]
    )


def started(generation: int = 1, ts: float = T0) -> ServerStarted:
    return ServerStarted(
        ts=ts,
        url="http://127.0.0.1:8000",
        pid=4242,
        mode="child",
        host="127.0.0.1",
        port=8000,
        generation=generation,
        settings_module="demosite.settings",
        asgi_app="demosite.asgi:application",
        python="3.11.7",
        django="5.2.1",
        uvicorn="0.34.0",
        startup_s=0.42,
    )


def request(n: int = 1, **kw: object) -> RequestFinished:
    """A plain sync request; any field can be overridden."""
    fields: dict[str, object] = {
        "ts": T0 + n * 0.25,
        "id": f"1-{n}",
        "method": "GET",
        "path": "/polls/",
        "status": 200,
        "route": "polls/",
        "view": "polls.views.index",
        "kind": "sync",
        "total_ns": 12 * MS,
        "view_ns": 8 * MS,
        "thread_wait_ns": 1 * MS,
        "sql_count": 2,
        "sql_ns": 2 * MS,
        "response_size": 512,
        "request_headers": (("host", "127.0.0.1:8000"), ("accept", "text/html")),
        "response_headers": (("content-type", "text/html; charset=utf-8"),),
        "response_body": "<html><body><h1>Polls</h1></body></html>",
    }
    fields.update(kw)
    return RequestFinished(**fields)  # type: ignore[arg-type]


def sample_requests() -> list[Event]:
    """A small, varied log: sync and async views, a 404, a 500, static, N+1 SQL, a WebSocket."""
    views_py = "/tmp/x/polls/views.py"
    n_plus_one = (
        SqlQuery(
            sql='SELECT "polls_question"."id" FROM "polls_question" WHERE "id" = %s',
            duration_ns=150_000,
            params=("1",),
            source=FrameInfo(views_py, 30, "get_object", "return Question.objects.get(pk=pk)"),
        ),
        *(
            SqlQuery(
                sql='SELECT "polls_choice"."id" FROM "polls_choice" WHERE "question_id" = %s',
                duration_ns=300_000 + i * 10_000,
                params=(str(1 + i % 3),),
                source=FrameInfo(views_py, 34, "get_context_data", "votes += c.question.votes"),
            )
            for i in range(5)
        ),
        SqlQuery(sql="COMMIT", duration_ns=250_000),
    )
    boom = ExceptionInfo(
        type="SynchronousOnlyOperation",
        message="You cannot call this from an async context - use a thread or sync_to_async.",
        traceback='Traceback (most recent call last):\n  File "/tmp/x/polls/views.py", line 42,'
        " in broken\n    list(Question.objects.all())\nSynchronousOnlyOperation: You cannot call "
        "this from an async context",
        frame=FrameInfo("/tmp/x/polls/views.py", 42, "broken", "list(Question.objects.all())"),
        hint="Wrap the ORM call in sync_to_async, or use the async ORM (aget, afirst, async for).",
    )
    return [
        request(1),
        request(
            2,
            path="/polls/1/",
            route="polls/<int:pk>/",
            view="polls.views.DetailView",
            total_ns=35 * MS,
            view_ns=30 * MS,
            template_ns=6 * MS,
            template_in_view_ns=6 * MS,
            sql_count=7,
            sql_ns=2_100_000,
            sql=n_plus_one,
            thread_wait_ns=2 * MS,
        ),
        request(
            3,
            path="/api/stats",
            route="api/stats",
            view="api.views.stats",
            kind="async",
            total_ns=4 * MS,
            view_ns=3 * MS,
            thread_wait_ns=None,
            sql_count=0,
            sql_ns=0,
            response_headers=(("content-type", "application/json"),),
            response_body='{"questions": 3, "votes": 17}',
        ),
        request(
            4,
            path="/static/app.css",
            route=None,
            view=None,
            kind=None,
            static=True,
            total_ns=1 * MS,
            view_ns=None,
            thread_wait_ns=None,
            sql_count=0,
            sql_ns=0,
        ),
        request(
            5,
            path="/nope",
            route=None,
            view=None,
            kind=None,
            status=404,
            total_ns=3 * MS,
            view_ns=None,
            thread_wait_ns=None,
            sql_count=0,
            sql_ns=0,
        ),
        request(
            6,
            method="POST",
            path="/polls/1/vote/",
            route="polls/<int:pk>/vote/",
            view="polls.views.vote",
            status=302,
            total_ns=18 * MS,
            view_ns=11 * MS,
            sql_count=3,
            query="next=%2Fpolls%2F",
            request_headers=(
                ("host", "127.0.0.1:8000"),
                ("cookie", "sessionid=abc123"),
                ("authorization", "Bearer s3cret"),
                ("content-type", "application/x-www-form-urlencoded"),
            ),
            request_body="choice=2",
            response_headers=(
                ("location", "/polls/1/results/"),
                ("set-cookie", "messages=xyz; Path=/; HttpOnly"),
            ),
        ),
        request(
            7,
            path="/async/broken/",
            route="async/broken/",
            view="polls.views.broken",
            kind="async",
            status=500,
            total_ns=250 * MS,
            view_ns=240 * MS,
            thread_wait_ns=None,
            sql_count=0,
            sql_ns=0,
            error=boom,
        ),
        WsOpened(
            ts=T0 + 2.0,
            id="1-8",
            path="/ws/chat/lobby/",
            request_headers=(("host", "127.0.0.1:8000"),),
        ),
        WsAccepted(
            ts=T0 + 2.01,
            id="1-8",
            consumer="chat.consumers.ChatConsumer",
            url_kwargs=(("room", "lobby"),),
        ),
        WsClosed(
            ts=T0 + 5.0,
            id="1-8",
            code=1000,
            by="client",
            duration_ns=3_000 * MS,
            frames_in=4,
            frames_out=4,
            consumer="chat.consumers.ChatConsumer",
        ),
    ]


def console_events() -> list[Event]:
    return [
        CheckMessage(
            ts=T0 - 0.2,
            level="warning",
            check_id="migrations",
            message="You have 1 unapplied migration(s) for app(s): polls.",
        ),
        LogRecord(ts=T0 + 1.0, logger="polls", level="INFO", message="vote recorded"),
        LogRecord(
            ts=T0 + 1.9,
            logger="django.request",
            level="ERROR",
            message="Internal Server Error: /async/broken/",
        ),
        ConsoleOutput(ts=T0 + 1.95, stream="stdout", text="print() from a view"),
        LoopBlocked(
            ts=T0 + 3.0,
            duration_ns=180 * MS,
            frame=FrameInfo("/tmp/x/polls/views.py", 58, "slow", "time.sleep(0.2)"),
        ),
    ]


def main_script() -> list[Event]:
    """What the main-screen snapshot shows."""
    return [
        ServerStarting(ts=T0 - 0.5, mode="child", generation=1),
        *console_events()[:1],
        started(),
        *sample_requests(),
        *console_events()[1:],
    ]


def failure_script() -> list[Event]:
    tb = (
        "Traceback (most recent call last):\n"
        '  File "/tmp/x/demosite/settings.py", line 12, in <module>\n'
        "    import nonexistent_package\n"
        "ModuleNotFoundError: No module named 'nonexistent_package'"
    )
    return [
        ServerStarting(ts=T0 - 0.5, mode="child", generation=1),
        ServerFailed(
            ts=T0,
            phase="settings",
            message="demosite.settings could not be imported: No module named "
            "'nonexistent_package'. Fix the import in demosite/settings.py and save.",
            error=ExceptionInfo(
                type="ModuleNotFoundError",
                message="No module named 'nonexistent_package'",
                traceback=tb,
                frame=FrameInfo(
                    "/tmp/x/demosite/settings.py", 12, "<module>", "import nonexistent_package"
                ),
            ),
        ),
    ]


class ScriptedRuntime(Runtime):
    """A Runtime whose start() emits a fixed list of events; records the calls it gets."""

    def __init__(
        self, config: DashboardConfig, on_events: EventCallback, script: Sequence[Event] = ()
    ) -> None:
        super().__init__(config, on_events)
        self.script = list(script)
        self.calls: list[str] = []

    async def start(self) -> None:
        self.calls.append("start")
        self.state = "running"
        if self.script:
            self.emit(*self.script)

    async def stop(self) -> None:
        self.calls.append("stop")
        self.state = "stopped"

    async def restart(self, reason: str = "manual") -> None:
        self.calls.append(f"restart:{reason}")


def scripted_factory(
    script: Sequence[Event], runtimes: list[ScriptedRuntime] | None = None
) -> Callable[[DashboardConfig, EventCallback], Runtime]:
    """A runtime_factory for make_app(); the created runtimes are appended to ``runtimes``."""

    def factory(config: DashboardConfig, on_events: EventCallback) -> Runtime:
        runtime = ScriptedRuntime(config, on_events, script)
        if runtimes is not None:
            runtimes.append(runtime)
        return runtime

    return factory
