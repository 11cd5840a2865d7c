"""Building the editor command and finding where to open (asgi_dashboard/editor.py): pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgi_dashboard.editor import (
    Location,
    NoEditor,
    definition_line,
    editor_command,
    event_location,
    view_location,
)
from asgi_dashboard.events import ExceptionInfo, FrameInfo, LoopBlocked, RequestFinished

HERE = Location("/p/app/views.py", 12)


def nothing(name: str) -> str | None:
    return None


def test_visual_wins_over_editor_and_takes_plus_line() -> None:
    cmd = editor_command(HERE, {"VISUAL": "vim", "EDITOR": "nano"}, nothing)
    assert cmd.argv == ("vim", "+12", "/p/app/views.py")
    assert cmd.source == "VISUAL"


def test_editor_with_options_is_split_like_a_shell() -> None:
    cmd = editor_command(HERE, {"EDITOR": "emacs -nw 'a b'"}, nothing)
    assert cmd.argv == ("emacs", "-nw", "a b", "+12", "/p/app/views.py")
    assert cmd.source == "EDITOR"


def test_empty_visual_falls_through_to_editor() -> None:
    assert editor_command(HERE, {"VISUAL": " ", "EDITOR": "nano"}, nothing).argv[0] == "nano"


@pytest.mark.parametrize(
    ("editor", "tail"),
    [
        ("code -w", ("--goto", "/p/app/views.py:12")),
        ("/usr/bin/codium", ("--goto", "/p/app/views.py:12")),
        ("subl -w", ("/p/app/views.py:12",)),
        ("hx", ("/p/app/views.py:12",)),
        ("nvim", ("+12", "/p/app/views.py")),
        ("my-editor", ("+12", "/p/app/views.py")),
    ],
)
def test_line_syntax_by_editor_name(editor: str, tail: tuple[str, ...]) -> None:
    assert editor_command(HERE, {"EDITOR": editor}, nothing).argv[-len(tail) :] == tail


def test_fallback_is_the_first_editor_on_path() -> None:
    found = {"vi": "/usr/bin/vi", "nano": "/bin/nano"}
    cmd = editor_command(HERE, {}, found.get)
    assert cmd.argv == ("/bin/nano", "+12", "/p/app/views.py")
    assert cmd.source == "PATH"


def test_no_editor_at_all_says_what_to_set() -> None:
    with pytest.raises(NoEditor, match=r"\$EDITOR"):
        editor_command(HERE, {}, nothing)


def test_line_zero_becomes_one() -> None:
    assert editor_command(Location("f.py", 0), {"EDITOR": "vi"}, nothing).argv[1] == "+1"


SOURCE = """import x

def index(request):
    return 1


class Polls:
    def get(self):
        pass

    async def post(self):
        pass
"""


def test_definition_line_finds_nested_names() -> None:
    assert definition_line(SOURCE, ["index"]) == 3
    assert definition_line(SOURCE, ["Polls", "post"]) == 11
    assert definition_line(SOURCE, ["Polls", "missing"]) == 7
    assert definition_line(SOURCE, ["missing"]) == 1


def test_view_location_reads_the_module_under_a_root(tmp_path: Path) -> None:
    pkg = tmp_path / "polls"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "views.py").write_text(SOURCE)
    found = view_location("polls.views.Polls.get", [tmp_path])
    assert found == Location(str(pkg / "views.py"), 8)
    # A view of an installed app (not under the project): nowhere to go.
    assert view_location("django.contrib.admin.sites.index", [tmp_path]) is None
    # A view in a package's __init__.
    assert view_location("polls.thing", [tmp_path]) == Location(str(pkg / "__init__.py"), 1)


def test_event_location_prefers_the_error_frame(tmp_path: Path) -> None:
    (tmp_path / "views.py").write_text(SOURCE)
    frame = FrameInfo("/p/views.py", 40, "index")
    error = ExceptionInfo("ValueError", "x", "tb", frame=frame)
    failed = RequestFinished(
        ts=0.0, id="1", method="GET", path="/", status=500, view="views.index", error=error
    )
    assert event_location(failed, [tmp_path]) == Location("/p/views.py", 40)
    ok = RequestFinished(ts=0.0, id="2", method="GET", path="/", status=200, view="views.index")
    assert event_location(ok, [tmp_path]) == Location(str(tmp_path / "views.py"), 3)
    blocked = LoopBlocked(ts=0.0, duration_ns=1, frame=FrameInfo("/p/slow.py", 7, "f"))
    assert event_location(blocked) == Location("/p/slow.py", 7)
    assert event_location(LoopBlocked(ts=0.0, duration_ns=1)) is None
