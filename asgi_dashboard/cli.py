"""Command line: arguments -> :class:`~asgi_dashboard.config.DashboardConfig` -> TUI or headless.

Four subcommands (argparse subparsers, all listed by ``asgi-dash --help``):

* ``asgi-dash [run] [PROJECT]``: the dashboard. ``run`` is the default: an argument list that
  does not start with a subcommand's name is ``run``'s (``asgi-dash PROJECT``, ``asgi-dash
  --headless``), so a project folder named ``probe`` is ``asgi-dash run probe`` or
  ``asgi-dash ./probe``.
* ``asgi-dash probe URL [URL2] -n 100 -c 10`` and ``asgi-dash replay --events FILE ID``: against
  a server that is already running (:mod:`.diagnostics.probe_command`,
  :mod:`.diagnostics.replay_command`).
* ``asgi-dash collect``: the dashboard for processes it did not start, which wrap their
  application with ``asgi_dashboard.attach`` (:mod:`.collect_command`).

Why argparse and not click: no new dependency, and the start-up path stays short. ``run`` forks
the first server right after parsing, before the dashboard imports the rest of itself (see
``runtime/launch.py``): every millisecond spent importing here is a millisecond later for the
first request. The subcommands' modules (httpx, the event schema) are imported only when they run.

Errors found before anything starts (a wrong path, not a Django project) are one line on stderr
and exit code 2; the project's own errors are reported by the server process as events.

Without ``--port``, a busy 8000 is not a dead end: the first free port of 8001-8010 (else any
free port) is used, and the dashboard says so (status bar, or stderr when headless). An explicit
``--port`` is taken as asked, and a busy one fails with exit code 2.

The TUI exits with the same codes as headless mode (:meth:`DashboardApp.exit_status`). A
subcommand whose stdout reader went away (``asgi-dash probe ... | head``) exits 141 with no
traceback, as headless mode does.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .diagnostics.options import (
    PROBE_DESCRIPTION,
    REPLAY_DESCRIPTION,
    add_probe_arguments,
    add_replay_arguments,
)
from .otlp import add_otlp_argument, otlp_from_args

if TYPE_CHECKING:
    from .config import DashboardConfig

#: The subcommands; any other first argument is ``run``'s.
COMMANDS = ("run", "probe", "replay", "collect")
RUN_DESCRIPTION = (
    "Run a Django project under Uvicorn with a live dashboard. With no PROJECT and no manage.py "
    "in the current folder, runs the bundled demo project. `run` is the default command: "
    "`asgi-dash PROJECT` is `asgi-dash run PROJECT`."
)
RUN_PROG = "asgi-dash"  # run's errors read as before subcommands existed
RUN_USAGE = "asgi-dash [run] [PROJECT] [options]"
USAGE = """asgi-dash [run] [PROJECT] [options]
       asgi-dash probe URL [URL2] [-n N] [-c C] [options]
       asgi-dash replay --events FILE (ID | --last PATH) [options]
       asgi-dash collect [--socket PATH] [--headless] [--json]"""


def build_parser() -> argparse.ArgumentParser:
    """``asgi-dash`` and its three subcommands (``run`` named: see :func:`with_command`)."""
    p = argparse.ArgumentParser(
        prog="asgi-dash",
        usage=USAGE,
        description="A live dashboard for a Django project under Uvicorn, and diagnostics "
        "against a running server.",
        epilog="`asgi-dash COMMAND --help` lists a command's options. A project folder named "
        "like a command: `asgi-dash run probe` or `asgi-dash ./probe`.",
    )
    p.add_argument("--version", action="version", version=f"asgi-dash {__version__}")
    commands = p.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run a Django project with the dashboard (the default command)",
        prog=RUN_PROG,
        description=RUN_DESCRIPTION,
        usage=RUN_USAGE,
    )
    add_run_arguments(run)
    probe = commands.add_parser(
        "probe",
        prog="asgi-dash probe",
        help="fire N requests at one or two URLs of a running server and compare",
        description=PROBE_DESCRIPTION,
    )
    add_probe_arguments(probe)
    replay = commands.add_parser(
        "replay",
        prog="asgi-dash replay",
        help="re-send a captured request and diff the answer with the original",
        description=REPLAY_DESCRIPTION,
    )
    add_replay_arguments(replay)
    from .collect_command import COLLECT_DESCRIPTION, add_collect_arguments

    collect = commands.add_parser(
        "collect",
        prog="asgi-dash collect",
        help="watch processes asgi-dash did not start (asgi_dashboard.attach in their asgi.py)",
        description=COLLECT_DESCRIPTION,
    )
    add_collect_arguments(collect)
    return p


def with_command(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``run`` put first unless it names a subcommand (or asks for top-level help)."""
    raw = list(argv)
    if raw and (raw[0] in COMMANDS or raw[0] in ("-h", "--help", "--version")):
        return raw
    return ["run", *raw]


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "path",
        nargs="?",
        metavar="PROJECT",
        help="folder holding manage.py (default: current folder)",
    )
    p.add_argument("--settings", help="settings module (overrides DJANGO_SETTINGS_MODULE)")
    p.add_argument("--app", help="ASGI application as module:attribute")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port (default {DEFAULT_PORT}, or the next free one if it is busy; 0 = any free)",
    )
    p.add_argument("--in-process", action="store_true", help="serve inside the dashboard process")
    p.add_argument("--no-reload", action="store_true", help="never restart on file changes")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes accepting on the one socket (default 1; not with --in-process)",
    )
    p.add_argument("--nostatic", action="store_true", help="do not serve static files in DEBUG")
    p.add_argument("--headless", action="store_true", help="no TUI: print one line per event")
    p.add_argument("--json", action="store_true", help="with --headless: JSON lines")
    p.add_argument(
        "--keep-secrets",
        action="store_true",
        help="with --json: print Authorization, Cookie and Set-Cookie values (redacted by "
        "default, as in the HAR export)",
    )
    add_otlp_argument(p)
    p.add_argument("--history", type=int, default=5000, help="requests kept in the UI")
    p.add_argument(
        "--graceful-timeout",
        type=float,
        default=1.0,
        help="seconds in-flight requests and open WebSockets get on stop/restart (default 1)",
    )
    p.add_argument(
        "--block-threshold",
        type=float,
        default=100.0,
        metavar="MS",
        help="report the event loop as blocked after MS milliseconds (default 100)",
    )
    p.add_argument(
        "--n-plus-one",
        type=int,
        default=5,
        metavar="N",
        help="flag a request N+1 when one line issues the same SQL N times (default 5, 0 = off)",
    )
    p.add_argument(
        "--no-hops",
        action="store_true",
        help="record no thread-hop timeline (saves ~3 us of CPU per hop, bench/hopcost.py)",
    )
    p.add_argument("--reload-dir", action="append", default=[], help="folder to watch (repeat)")
    p.add_argument("--reload-include", action="append", default=[], help="glob to watch")
    p.add_argument("--reload-exclude", action="append", default=[], help="glob to ignore")
    env = p.add_mutually_exclusive_group()
    env.add_argument(
        "--env-file",
        metavar="PATH",
        help="load this .env into the server's environment (default: the one manage.py or the "
        "settings load with python-dotenv or django-environ)",
    )
    env.add_argument("--no-env-file", action="store_true", help="load no .env file")
    p.add_argument(
        "--web",
        action="store_true",
        help="serve the dashboard in a browser tab (textual-serve) on 127.0.0.1, with a token",
    )
    p.add_argument(
        "--web-port",
        type=int,
        default=0,
        metavar="PORT",
        help="with --web: the page's port (default: any free one)",
    )
    p.add_argument("--version", action="version", version=f"asgi-dash {__version__}")


#: The port used when ``--port`` is not given; if it is busy, the next free of the
#: :data:`FALLBACK_PORTS` following it, else any free port.
DEFAULT_PORT = 8000
FALLBACK_PORTS = 10
EXIT_STDOUT_CLOSED = 141  # 128 + SIGPIPE, as headless.EXIT_STDOUT_CLOSED (not imported: slow)


def pick_default_port(host: str) -> tuple[int, str | None]:
    """:data:`DEFAULT_PORT`, or a free one near it and a notice that says why.

    Checked with a bind that is closed at once (a few microseconds); the server binds the
    port for real right after, so only another program starting in between could take it
    (and that is then reported as a busy port, as with ``--port``).
    """
    from .portowner import describe_port_owner, port_is_free

    if port_is_free(host, DEFAULT_PORT):
        return DEFAULT_PORT, None
    candidates = range(DEFAULT_PORT + 1, DEFAULT_PORT + 1 + FALLBACK_PORTS)
    port = next((p for p in candidates if port_is_free(host, p)), 0)
    instead = f"port {port}" if port else "a free port"
    return port, (
        # Short: it stays in the status bar beside the URL.
        f"port {DEFAULT_PORT} is in use{describe_port_owner(DEFAULT_PORT, command_line=False)}"
        f": using {instead} (--port {DEFAULT_PORT} to insist)"
    )


def config_from_args(args: argparse.Namespace) -> DashboardConfig:
    from .config import (
        DashboardConfig,
        DiscoveryError,
        discover,
        env_files_for,
        settings_from_env_files,
    )

    project_dir, settings, source, is_demo = discover(args.path, settings=args.settings)
    if args.port is None:
        args.port = DEFAULT_PORT
    if not 0 <= args.port <= 65535:
        raise DiscoveryError(f"--port {args.port} is not a port: use 0-65535 (0 = any free).")
    if args.workers < 1:
        raise DiscoveryError(f"--workers {args.workers}: use 1 or more server processes.")
    if args.workers > 1 and args.in_process:
        raise DiscoveryError(
            "--workers needs server processes: --in-process serves in the dashboard's own "
            "process (drop one of the two)."
        )
    env_files = env_files_for(
        project_dir, settings, env_file=args.env_file, enabled=not args.no_env_file
    )
    if source == "manage.py" and (from_env_file := settings_from_env_files(env_files)):
        settings, source = from_env_file, ".env"
        # The settings module decides which other .env files its own imports load.
        env_files = env_files_for(
            project_dir, settings, env_file=args.env_file, enabled=not args.no_env_file
        )
    return DashboardConfig(
        project_dir=project_dir,
        settings_module=settings,
        settings_source=source,
        app=args.app,
        host=args.host,
        port=args.port,
        in_process=args.in_process,
        reload=not args.no_reload,
        static=not args.nostatic,
        is_demo=is_demo,
        history=max(100, args.history),
        graceful_timeout=max(0.0, args.graceful_timeout),
        block_threshold_ms=max(1.0, args.block_threshold),
        n_plus_one=max(0, args.n_plus_one),
        hops=not args.no_hops,
        reload_dirs=tuple(Path(d).resolve() for d in args.reload_dir),
        reload_includes=tuple(args.reload_include),
        reload_excludes=tuple(args.reload_exclude),
        env_files=env_files,
        workers=args.workers,
        otlp=otlp_from_args(args),
        otlp_keep_secrets=args.keep_secrets,
    )


def _stdout_closed() -> int:
    """The reader of stdout went away: no traceback, and nothing more at exit either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_STDOUT_CLOSED


def run_diagnostic(args: argparse.Namespace) -> int:
    """``asgi-dash probe`` or ``asgi-dash replay``: against a server that is already running."""
    try:
        if args.command == "probe":
            from .diagnostics.probe_command import probe_main

            code = probe_main(args)
        else:
            from .diagnostics.replay_command import replay_main

            code = replay_main(args)
        sys.stdout.flush()  # a closed pipe shows here, not in Python's exit-time flush
    except BrokenPipeError:
        return _stdout_closed()
    return code


def parse_command_line(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line, ``command`` naming the subcommand.

    ``run`` (the common case, and the one racing to fork the first server) is parsed by the same
    parser as :func:`build_parser`'s ``run`` subcommand, built alone: the whole tree costs 1-2 ms
    more to build (timeit: 3.1 vs 1.3 ms at load ~3).
    """
    raw = with_command(argv)
    if raw[0] != "run":
        return build_parser().parse_args(raw)
    run = argparse.ArgumentParser(prog=RUN_PROG, description=RUN_DESCRIPTION, usage=RUN_USAGE)
    add_run_arguments(run)
    return run.parse_args(raw[1:], argparse.Namespace(command="run"))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_command_line(sys.argv[1:] if argv is None else argv)
    if args.command == "collect":
        from .collect_command import run_collect

        sys.exit(run_collect(args))
    if args.command != "run":
        sys.exit(run_diagnostic(args))
    if args.web:
        sys.exit(run_web_command(args, sys.argv[1:] if argv is None else argv))
    run_dashboard(args)


def run_web_command(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``asgi-dash --web``: the TUI in a browser tab (asgi_dashboard/web.py)."""
    if args.headless or args.json:
        print("asgi-dash: --web shows the TUI in a browser: drop --headless", file=sys.stderr)
        return 2
    try:
        from .web import run_web
    except ImportError:
        print("asgi-dash: --web needs textual-serve: pip install 'asgi-dash[web]'", file=sys.stderr)
        return 2
    return run_web(argv, args.web_port)


def run_dashboard(args: argparse.Namespace) -> None:
    """``asgi-dash [run]``: discover the project, fork the first server early, then the UI."""
    from .config import EXIT_BAD_INPUT, DiscoveryError, exposure_warning

    notices: list[str] = []
    explicit_port = args.port is not None
    try:
        config = config_from_args(args)
    except DiscoveryError as exc:
        print(f"asgi-dash: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    if not explicit_port:
        port, notice = pick_default_port(config.host)
        if notice is not None:
            config = config.with_port(port)
            notices.append(notice)
    # Under textual-serve (``--web``) stdout is the relay to the browser, not a terminal: the TUI.
    web_driver = os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver")
    headless = args.headless or args.json or not (sys.stdout.isatty() or web_driver)
    if not config.is_loopback and headless:
        # The TUI shows it in its status bar for as long as it runs (a line printed here would
        # be wiped by the TUI at once).
        print(f"asgi-dash: warning: {exposure_warning(config.host)}", file=sys.stderr)
    # Start the server process now: it loads Django and the project while the rest of the
    # dashboard (asyncio, the event schema, Textual) is still being imported (see launch.py).
    if not config.in_process:
        from .runtime.launch import prespawn

        prespawn(config)
    if headless:
        import asyncio

        from .headless import run_headless

        for notice in notices:
            print(f"asgi-dash: {notice}", file=sys.stderr)
        try:
            code = asyncio.run(
                run_headless(config, json_lines=args.json, keep_secrets=args.keep_secrets)
            )
        except KeyboardInterrupt:
            code = 0
        sys.exit(code)

    from .app import make_app

    app = make_app(config, notices=notices)
    app.run()
    # App.return_code: what exit_status() chose, or 1 when Textual itself failed.
    sys.exit(app.return_code or 0)
