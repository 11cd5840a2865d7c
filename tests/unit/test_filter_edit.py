"""FilterEdit: invalid filter text keeps the last valid filter and says what is wrong."""

from __future__ import annotations

import pytest

from asgi_dashboard.filters import FilterEdit


def typed(edit: FilterEdit, text: str) -> None:
    """Type ``text`` one key at a time, as the input reports it."""
    for i in range(1, len(text) + 1):
        edit.edit(text[:i])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("status:abc", "status:abc is not a status"),
        ("foo:bar", 'unknown field "foo:"'),
        ("kind:bogus", "kind:bogus is not a kind"),
        ("sql:>", "sql:> is not a comparison"),
        ('"unclosed', "unclosed quote"),
    ],
)
def test_invalid_text_typed_after_a_committed_filter_keeps_it(text: str, says: str) -> None:
    edit = FilterEdit()
    typed(edit, "error ")
    typed(edit, "error " + text)
    assert edit.error is not None and says in edit.error
    assert edit.applied.text.strip() == "error"
    assert "still filtering by error" in edit.feedback


def test_half_typed_term_does_not_stay_as_a_text_search() -> None:
    edit = FilterEdit()
    typed(edit, "status:abc")
    # "status" parsed as a text search on the way; it must not be what stays applied.
    assert edit.applied.is_empty
    assert edit.feedback.endswith("(showing all requests)")


def test_replaced_text_keeps_the_previous_valid_filter() -> None:
    edit = FilterEdit()
    assert edit.edit("ws")
    assert not edit.edit("kind:bogus")
    assert edit.applied.text == "ws"


def test_commit_and_recovery() -> None:
    edit = FilterEdit()
    typed(edit, "status:5xx")
    edit.commit()
    typed(edit, "status:5xx kind:")
    assert edit.applied.text.strip() == "status:5xx"
    assert edit.edit("status:5xx kind:ws")
    assert edit.error is None and edit.feedback == ""
