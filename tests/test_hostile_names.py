"""A name followed by a newline is not a name: every check of names matches the whole name.

Python's ``re.match(r"^[a-z]+$", "worker0\\n")`` succeeds, because ``$`` also matches
before a final newline; a check written that way would accept ``worker0\\n`` as an
actor, ``working\\n`` as a state. The vocabulary uses ``re.fullmatch`` and the table's
rows are checked by Arrow's RE2 patterns and exact set look-ups, which do not; these
tests pin that down for every place a name is checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import TableError
from schemas.events import read_events
from schemas.vocabulary import Actor, Attribute, ShortLivedKind, Vocabulary, VocabularyError
from tests.test_hostile_tables import newline_in

JOB = ShortLivedKind("job", "job_", ("waiting",))


@pytest.mark.parametrize("name", ["worker0\n", "worker0\r\n", "\nworker0", "worker0 ", ""])
def test_an_actor_name_with_a_newline_or_space_is_refused(name: str) -> None:
    with pytest.raises(VocabularyError, match="not valid"):
        Actor(name, ("working",))


@pytest.mark.parametrize("state", ["working\n", "work\ning"])
def test_a_state_with_a_newline_is_refused(state: str) -> None:
    with pytest.raises(VocabularyError, match="not valid"):
        Actor("worker0", (state,))


def test_attribute_kind_prefix_and_colour_with_a_newline_are_refused() -> None:
    with pytest.raises(VocabularyError):
        Attribute("level\n", "int64")
    with pytest.raises(VocabularyError):
        ShortLivedKind("job\n", "job_", ("waiting",))
    with pytest.raises(VocabularyError, match="prefix"):
        ShortLivedKind("job", "job_\n", ("waiting",))
    with pytest.raises(VocabularyError, match="colour"):
        Vocabulary(actors=(Actor("a", ("busy",)),), colours={"busy": "#2ea043\n"})


@pytest.mark.parametrize("name", ["job_1\n", "job_1\r", "job_01", "job_", "job_1 "])
def test_an_instance_name_must_be_the_whole_pattern(name: str) -> None:
    assert not JOB.matches(name)
    vocabulary = Vocabulary(actors=(Actor("a", ("busy",)),), short_lived=(JOB,))
    assert vocabulary.kind_of(name) is None
    with pytest.raises(KeyError):
        vocabulary.declaration(name)
    assert JOB.matches("job_1")


@pytest.mark.parametrize(
    "where",
    [
        "vocabulary actor",
        "vocabulary state",
        "row actor",
        "row state",
        "row instance",
        "prefix",
        "colour",
    ],
)
def test_a_table_with_a_trailing_newline_in_a_name_is_refused(where: str, tmp_path: Path) -> None:
    path = newline_in(where)(tmp_path / "newline.parquet")
    with pytest.raises(TableError) as refused:
        read_events(path)
    # The message shows the newline escaped, so it stays one line on a terminal.
    assert "\n" not in str(refused.value)
    assert "\\n" in str(refused.value)
