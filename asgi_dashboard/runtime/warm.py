"""The warm process: Django already set up, waiting to fork the next server generation.

``python -m asgi_dashboard.runtime.warm SPEC`` is started by the supervisor (see
:mod:`.warmclient` for the parent side). It imports Django, Uvicorn, Channels, the settings and the
project's ASGI application module (``django.setup()`` included), closes its database connections,
and then waits on a Unix socket for commands, one JSON object per message:

* ``{"cmd": "fork", "spec": {...}}`` with four file descriptors attached (``socket.send_fds``):
  the event pipe, the control pipe, stdout and stderr of the new generation. The warm process
  forks; the new process wires those fds up and runs :func:`.child.run` (which imports the
  URLconf, i.e. the views, and serves on the inherited listening socket). Reply:
  ``{"type": "forked", "pid": N}`` or ``{"type": "unsafe", "reason": ...}``.
* ``{"cmd": "kill", "pid": N}``: SIGKILL one of its own, not yet reaped, children (so the PID
  cannot have been reused).
* ``{"cmd": "retire"}``: fork no more; exit once every child has exited.

It reports ``{"type": "ready", "files": [...]}`` (the project's source files it has imported:
a change to one of those needs a new warm process) or ``{"type": "failed", "message": ...}``, and
``{"type": "exited", "pid": N, "code": C}`` when a child ends (C negative for a signal, as in
``asyncio``). End-of-file on the socket means the parent is gone: exit.

Fork safety: this process never starts a thread or an event loop, and checks before every fork
that it still has exactly one thread (``/proc/self/task``): forking a process with other threads
can copy a lock held by one of them into a child that will never release it. Database
connections are closed before forking: a child must not share a SQLite or PostgreSQL connection
(its socket, file descriptor and lock state) with its parent.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import json
import os
import select
import selectors
import signal
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

from .spec import ServerSpec, WarmSpec
from .trace import trace

if TYPE_CHECKING:
    from .child import Prepared

MAX_MESSAGE = 1 << 20


def thread_count() -> int:
    with contextlib.suppress(OSError):
        return len(os.listdir("/proc/self/task"))
    return threading.active_count()


def project_files(project_dir: str) -> list[str]:
    """Source files under ``project_dir`` that this process has imported."""
    root = os.path.realpath(project_dir) + os.sep
    files = []
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path).startswith(root) and "site-packages" not in path:
            files.append(os.path.realpath(path))
    return sorted(set(files))


async def _noop_app(scope: Any, receive: Any, send: Any) -> None:
    """Only used to make Uvicorn import its protocol modules in the warm process."""


class Warm:
    def __init__(self, spec: WarmSpec) -> None:
        self.spec = spec
        self.chan = socket.socket(fileno=spec.chan_fd)
        self.chan.setblocking(True)
        self.children: dict[int, int] = {}  # pid -> pidfd
        self.retiring = False
        self.selector = selectors.DefaultSelector()
        #: Set by load(): what each fork reuses (child.Prepared).
        self.prepared: Prepared | None = None

    def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            self.chan.sendall(json.dumps(message).encode() + b"\n")

    def load(self) -> bool:
        """Import everything a server generation needs except the URLconf and the views."""
        import uvicorn  # noqa: F401 - imported now so a fork does not pay for it

        from . import child
        from .bootstrap import ProjectLoadError, load_application, wrap_static
        from .server import make_server
        from .serving import project_paths

        with contextlib.suppress(ImportError):
            import channels  # noqa: F401

        try:
            loaded = load_application(
                self.spec.project_dir, self.spec.settings_module, self.spec.app
            )
        except ProjectLoadError as exc:
            self.send({"type": "failed", "message": exc.message})
            return False
        from django.db import connections

        from ..instrument import install

        install(self.spec.project_dir)
        # Template engines (and their tag libraries) and Uvicorn's protocol modules (h11 or
        # httptools, websockets) are otherwise created or imported by each fork: ~30 ms.
        project_paths()
        # The application every fork serves, static-files wrapper included (its middleware
        # chain is built once here, not per fork).
        app, prefix = wrap_static(loaded, True)
        self.prepared = child.Prepared(loaded, (app, prefix) if prefix is not None else None)
        make_server(_noop_app, graceful_timeout=1.0).config.load()
        connections.close_all()
        self.preimport_urlconf_dependencies()
        self.preimport_request_modules()
        connections.close_all()
        # Objects that exist now are shared copy-on-write with every fork; keep the collector
        # from touching (and so copying) their pages in the children.
        gc.collect()
        gc.freeze()
        self.send({"type": "ready", "files": project_files(self.spec.project_dir)})
        return True

    def preimport_urlconf_dependencies(self, timeout: float = 30.0) -> None:
        """Import the third-party and Django modules the URLconf needs, not the project's own.

        A throwaway fork imports ROOT_URLCONF and lists the modules that appeared, except the
        project's; this process then imports those. Importing the URLconf here instead would
        leave the project's views imported (and their side effects, such as signal receivers,
        registered) in every fork. Measured on the demo: the URLconf import in a fork drops from
        ~50 ms (admin, auth views, forms, httpx ...) to ~3 ms.
        """
        project = os.path.realpath(self.spec.project_dir)
        tops = {name.removesuffix(".py") for name in os.listdir(project)}
        before = set(sys.modules)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the probe: never returns
            code = 0
            try:
                os.close(read_fd)
                from .child import preload_urlconf

                preload_urlconf(self.spec.project_dir)
                new = [
                    name
                    for name in list(sys.modules)
                    if name not in before
                    and name.partition(".")[0] not in tops
                    and not os.path.realpath(
                        getattr(sys.modules[name], "__file__", None) or ""
                    ).startswith(project + os.sep)
                ]
                with os.fdopen(write_fd, "w") as out:
                    json.dump(new, out)
            except BaseException:  # a broken URLconf is reported by the real server
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        data = b""
        with contextlib.suppress(OSError), os.fdopen(read_fd, "rb") as pipe:
            ready, _, _ = select.select([pipe], [], [], timeout)
            data = pipe.read() if ready else b""
        with contextlib.suppress(ProcessLookupError):
            if not data:
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        names = json.loads(data) if data else []
        for name in names:
            if name in sys.modules:
                continue
            with contextlib.suppress(BaseException):
                importlib.import_module(name)

    def preimport_request_modules(self) -> None:
        """Import what Django imports lazily on the first request and the first query.

        Measured on a startproject with one app: the first request of every fork imported the
        database backend's SQL compiler module (``ops.compiler()``, on the first query), the
        ``MESSAGE_STORAGE`` classes and the ``SESSION_SERIALIZER`` module: 20-70 ms of a loaded
        machine's time on the request the user is waiting for. Modules of the project itself are
        left alone (a change to them must not need a new warm process).
        """
        from django.conf import settings
        from django.db import connections
        from django.utils.module_loading import import_string

        project = os.path.realpath(self.spec.project_dir) + os.sep

        def outside_project(module_name: str) -> bool:
            found = importlib.util.find_spec(module_name)
            origin = found.origin if found is not None else None
            return bool(origin) and not os.path.realpath(str(origin)).startswith(project)

        modules = [connections[alias].ops.compiler_module for alias in connections]
        classes = []
        if "django.contrib.messages" in settings.INSTALLED_APPS:
            classes.append(settings.MESSAGE_STORAGE)
        if "django.contrib.sessions" in settings.INSTALLED_APPS:
            modules.append(settings.SESSION_ENGINE)
            classes.append(settings.SESSION_SERIALIZER)
        for name in modules:
            with contextlib.suppress(Exception):
                if outside_project(name):
                    importlib.import_module(name)
        for dotted in classes:
            with contextlib.suppress(Exception):
                if outside_project(dotted.rpartition(".")[0]):
                    import_string(dotted)

    def serve(self) -> None:
        self.selector.register(self.chan, selectors.EVENT_READ, None)
        while True:
            if self.retiring and not self.children:
                return
            for key, _ in self.selector.select():
                if key.data is None:
                    if not self._command():
                        return
                else:
                    self._reap(key.data)

    def _command(self) -> bool:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.chan, MAX_MESSAGE, 4)
        except OSError:
            data, fds = b"", []
        if not data:
            return False  # the parent is gone; our children notice through their pipes
        for raw in data.splitlines():
            message = json.loads(raw)
            cmd = message.get("cmd")
            if cmd == "fork":
                trace("warm-fork-request")
                self._fork(ServerSpec.from_dict(message["spec"]), fds)
                fds = []
            elif cmd == "kill" and message.get("pid") in self.children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(message["pid"]), signal.SIGKILL)
            elif cmd == "retire":
                self.retiring = True
        for fd in fds:  # fds that came with something other than a fork
            os.close(fd)
        return True

    def _fork(self, spec: ServerSpec, fds: list[int]) -> None:
        if len(fds) != 4 or self.retiring:
            for fd in fds:
                os.close(fd)
            self.send({"type": "unsafe", "reason": "bad fork request"})
            return
        threads = thread_count()
        if threads != 1:
            for fd in fds:
                os.close(fd)
            self.send(
                {
                    "type": "unsafe",
                    "reason": f"the warm process has {threads} threads (started while importing "
                    "the project): forking it is not safe",
                }
            )
            return
        from django.db import connections

        connections.close_all()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._become_server(spec, fds)  # never returns
        trace("warm-forked")
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        self.children[pid] = pidfd
        self.selector.register(pidfd, selectors.EVENT_READ, pid)
        self.send({"type": "forked", "pid": pid})

    def _become_server(self, spec: ServerSpec, fds: list[int]) -> None:
        code = 1
        try:
            event_fd, control_fd, out_fd, err_fd = fds
            # Nothing of the warm process's own plumbing survives in the server.
            with contextlib.suppress(Exception):
                self.selector.close()
            self.chan.close()
            for pidfd in self.children.values():
                with contextlib.suppress(OSError):
                    os.close(pidfd)
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            os.close(out_fd)
            os.close(err_fd)
            spec = spec.with_pipes(event_fd, control_fd)
            from .child import run

            code = run(spec, self.prepared)
        except BaseException:  # whatever happens, never return into the warm loop
            import traceback

            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def _reap(self, pid: int) -> None:
        pidfd = self.children.pop(pid)
        self.selector.unregister(pidfd)
        os.close(pidfd)
        try:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = -1
        self.send({"type": "exited", "pid": pid, "code": code})


def main() -> None:
    spec = WarmSpec.from_json(sys.argv[1])
    from .control import die_with_parent

    die_with_parent()
    # SIGINT belongs to the dashboard; SIGTERM (from the parent's death) ends us by default.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm = Warm(spec)
    if warm.load():
        warm.serve()
    sys.exit(0)


if __name__ == "__main__":
    main()
