"""Vocabulary declarations and the in-simulation recorder."""

from __future__ import annotations

import pytest

from domains.recorder import EventRecorder, RecordingError
from schemas.vocabulary import Actor, Attribute, Vocabulary, VocabularyError

VOCABULARY = Vocabulary(
    actors=(Actor("clerk", ("serving", "idle"), kind="person"),),
    attributes=(Attribute("customer", "int64"), Attribute("till", "string")),
)


def test_vocabulary_round_trips_through_json() -> None:
    assert Vocabulary.from_json(VOCABULARY.to_json()) == VOCABULARY


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Actor("Clerk", ("idle",)), "actor name 'Clerk' is not valid"),
        (lambda: Actor("clerk", ()), "declares no states"),
        (lambda: Actor("clerk", ("idle", "idle")), "declares a state twice"),
        (lambda: Attribute("start", "int64"), "reserved for a table column"),
        (lambda: Attribute("size", "int32"), "has type 'int32'; expected one of"),  # type: ignore[arg-type]
        (
            lambda: Vocabulary(actors=(Actor("a", ("x",)), Actor("a", ("y",)))),
            "an actor is declared twice: a",
        ),
        (lambda: Vocabulary.from_json({"actors": "clerk"}), "vocabulary.actors must be a list"),
    ],
)
def test_bad_declarations_say_what_is_wrong(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(VocabularyError, match=message):
        make()


def test_recorder_opens_and_closes_intervals_at_the_clock() -> None:
    now = [0.0]
    recorder = EventRecorder(VOCABULARY, lambda: now[0])
    recorder.enter("clerk", "idle")
    now[0] = 2.5
    recorder.enter("clerk", "serving", customer=7, till="north")
    now[0] = 4.0
    recorder.close("clerk")
    recorder.enter("clerk", "idle")
    episode = recorder.finish(10.0)
    assert episode.state == ["idle", "serving", "idle"]
    assert episode.start == [0.0, 2.5, 4.0]
    assert episode.end == [2.5, 4.0, 10.0]
    assert episode.attributes == {"customer": [None, 7, None], "till": [None, "north", None]}


@pytest.mark.parametrize(
    ("actor", "state", "attributes", "message"),
    [
        ("cook", "idle", {}, "actor 'cook' is not declared"),
        ("clerk", "sleeping", {}, "cannot enter state 'sleeping'"),
        ("clerk", "idle", {"mood": 1}, "attribute 'mood' is not declared"),
        ("clerk", "idle", {"customer": "7"}, "declared type is int64"),
        ("clerk", "idle", {"customer": True}, "declared type is int64"),
    ],
)
def test_recorder_rejects_undeclared_events(
    actor: str, state: str, attributes: dict, message: str
) -> None:
    recorder = EventRecorder(VOCABULARY, lambda: 0.0)
    with pytest.raises(RecordingError, match=message):
        recorder.enter(actor, state, **attributes)
