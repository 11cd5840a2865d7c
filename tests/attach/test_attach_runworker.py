"""``manage.py runworker`` attached: a Channels worker process that serves no HTTP reports the
handlers its consumers run (HandlerRun) to ``asgi-dash collect``, over a real Redis layer."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from .support import VENV_BIN, collector, named, short_dir, stop

pytestmark = pytest.mark.slow

SETTINGS = """\
import os
SECRET_KEY = "test"
DEBUG = True
INSTALLED_APPS = ["channels"]
DATABASES = {}
ASGI_APPLICATION = "jobs_asgi.application"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [os.environ["REDIS_URL"]]},
    }
}
"""
ASGI = """\
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobs_settings")
import django

django.setup()
from channels.consumer import SyncConsumer
from channels.routing import ChannelNameRouter, ProtocolTypeRouter

import asgi_dashboard


class JobConsumer(SyncConsumer):
    def job_run(self, message):
        pass


application = asgi_dashboard.attach(
    ProtocolTypeRouter({"channel": ChannelNameRouter({"jobs": JobConsumer.as_asgi()})})
)
"""
MANAGE = """\
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobs_settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


async def send_jobs(url: str, count: int) -> None:
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[url])
    for n in range(count):
        await layer.send("jobs", {"type": "job.run", "n": n})
    await layer.close_pools()


def test_runworker_reports_each_handled_message(redis_url: str) -> None:
    with short_dir() as folder:
        for name, text in (
            ("jobs_settings.py", SETTINGS),
            ("jobs_asgi.py", ASGI),
            ("manage.py", MANAGE),
        ):
            (folder / name).write_text(text)
        sock = folder / "c.sock"
        with collector(sock) as (_proc, lines):
            env = {
                **os.environ,
                "ASGI_DASH_COLLECT": str(sock),
                "REDIS_URL": redis_url,
                "DJANGO_SETTINGS_MODULE": "jobs_settings",  # the suite may have set another
            }
            worker = subprocess.Popen(
                [str(Path(VENV_BIN) / "python"), "manage.py", "runworker", "jobs"],
                cwd=folder,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                lines.wait_for(lambda ev: bool(named(ev, "process-attached")), 30)
                asyncio.run(send_jobs(redis_url, 3))
                lines.wait_for(lambda ev: len(named(ev, "handler")) >= 3, 30)
                events = lines.events()
            finally:
                stop(worker)
    (hello,) = named(events, "process-attached")
    assert (hello["server"], hello["pid"]) == ("runworker", worker.pid)
    assert hello["settings_module"] == "jobs_settings"
    handlers = named(events, "handler")
    assert [h["msg_type"] for h in handlers] == ["job.run"] * 3
    assert all(h["handler"] == "job_run" and h["error"] is None for h in handlers)
    assert not named(events, "request")
