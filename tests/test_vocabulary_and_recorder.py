"""Vocabulary declarations (named actors, short-lived kinds, display hints) and the
in-simulation recorder."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from domains.recorder import EventRecorder, RecordingError
from schemas.vocabulary import Actor, Attribute, ShortLivedKind, Vocabulary, VocabularyError

CUSTOMER = ShortLivedKind("customer", "customer_", ("waiting", "paying"), "a shopper")
VOCABULARY = Vocabulary(
    actors=(Actor("clerk", ("serving", "idle"), kind="person"),),
    attributes=(
        Attribute("customer", "int64"),
        Attribute("till", "string"),
        Attribute("queue_length", "int64", "people waiting", quantity=True),
        Attribute("load", "float64", quantity=True),
    ),
    short_lived=(CUSTOMER,),
    colours={"serving": "#2EA043", "waiting": "#e89117"},
)


def test_vocabulary_round_trips_through_json() -> None:
    document = VOCABULARY.to_json()
    assert Vocabulary.from_json(document) == VOCABULARY
    assert document["short_lived"] == [
        {
            "kind": "customer",
            "prefix": "customer_",
            "states": ["waiting", "paying"],
            "description": "a shopper",
        }
    ]
    assert document["colours"] == {"serving": "#2ea043", "waiting": "#e89117"}
    assert [a["quantity"] for a in document["attributes"]] == [False, False, True, True]


def test_v2_fields_default_to_nothing() -> None:
    vocabulary = Vocabulary.from_json({"actors": [{"name": "clerk", "states": ["idle"]}]})
    assert (vocabulary.short_lived, vocabulary.colours, vocabulary.quantities) == ((), {}, ())


def test_colours_are_lower_case_and_quantities_and_states_are_listed() -> None:
    assert VOCABULARY.colours == {"serving": "#2ea043", "waiting": "#e89117"}
    assert VOCABULARY.quantities == ("queue_length", "load")
    assert VOCABULARY.state_names == ("serving", "idle", "waiting", "paying")


INSTANCES = ["customer_0", "customer_7", "customer_10", "customer_123456789012"]
NOT_INSTANCES = [
    "customer_01",  # leading zero
    "customer_00",
    "customer_",  # no number
    "customer",
    "customer_-1",
    "customer_1a",
    "customer_1_2",
    "customer_ 1",
    "customer_1\n",  # Python's "$" would match before the newline
    "Customer_1",
    "xcustomer_1",
    "customer_\u0661",  # an Arabic-Indic digit one: a digit to Python, not to the schema
]


def _arrow_matches(pattern: str, name: str) -> bool:
    """Whether `pattern` matches `name` as the table checks and painters use it (Arrow's
    RE2 and polars, where "$" is the end of the text), unlike Python's ``re.search``."""
    arrow = pc.match_substring_regex(pa.array([name]), pattern)[0].as_py()
    polars = pl.Series([name]).str.contains(pattern)[0]
    assert arrow == polars
    return bool(arrow)


@pytest.mark.parametrize("name", INSTANCES)
def test_instance_names_resolve_to_their_kind(name: str) -> None:
    assert CUSTOMER.matches(name)
    assert VOCABULARY.kind_of(name) is CUSTOMER
    assert VOCABULARY.declaration(name) is CUSTOMER
    assert _arrow_matches(CUSTOMER.pattern, name)


@pytest.mark.parametrize("name", NOT_INSTANCES)
def test_names_that_are_not_instances_do_not_resolve(name: str) -> None:
    assert not CUSTOMER.matches(name)
    assert VOCABULARY.kind_of(name) is None
    assert not _arrow_matches(CUSTOMER.pattern, name)
    with pytest.raises(KeyError, match="short-lived instances: \\['customer_<n>'\\]"):
        VOCABULARY.declaration(name)


def test_a_named_actor_resolves_to_itself_and_may_share_a_prefix_s_letters() -> None:
    vocabulary = Vocabulary(actors=(Actor("customer_desk", ("open",)),), short_lived=(CUSTOMER,))
    assert vocabulary.declaration("customer_desk") == vocabulary.actor("customer_desk")
    assert vocabulary.kind_of("customer_desk") is None


def test_instance_forms_the_name_and_refuses_what_is_no_number() -> None:
    assert CUSTOMER.instance(0) == "customer_0"
    assert CUSTOMER.instance(17) == "customer_17"
    for bad in (-1, True, 1.0, "3"):
        with pytest.raises(VocabularyError, match="must be an integer >= 0"):
            CUSTOMER.instance(bad)  # type: ignore[arg-type]


def test_the_short_lived_kind_is_found_by_name() -> None:
    assert VOCABULARY.short_lived_kind("customer") is CUSTOMER
    with pytest.raises(KeyError, match=r"declared kinds: \['customer'\]"):
        VOCABULARY.short_lived_kind("visitor")


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
        # short-lived kinds
        (
            lambda: ShortLivedKind("customer", "customer", ("x",)),
            "prefix 'customer'; expected lower-case snake_case ending in '_'",
        ),
        (lambda: ShortLivedKind("customer", "Customer_", ("x",)), "prefix 'Customer_'"),
        (lambda: ShortLivedKind("customer", "_", ("x",)), "prefix '_'"),
        (lambda: ShortLivedKind("customer", "c_\n", ("x",)), r"prefix 'c_\\n'"),
        (
            lambda: ShortLivedKind("Customer", "customer_", ("x",)),
            "short-lived kind name 'Customer' is not valid",
        ),
        (
            lambda: ShortLivedKind("customer", "customer_", ()),
            "short-lived kind 'customer' declares no states",
        ),
        (
            lambda: ShortLivedKind("customer", "customer_", ("x", "x")),
            "short-lived kind 'customer' declares a state twice",
        ),
        (
            lambda: Vocabulary(actors=(Actor("customer_3", ("x",)),), short_lived=(CUSTOMER,)),
            "named actor 'customer_3' looks like an instance of short-lived kind 'customer' "
            "\\(prefix 'customer_'\\); rename the actor or the prefix",
        ),
        (
            lambda: Vocabulary(
                actors=(),
                short_lived=(CUSTOMER, ShortLivedKind("shopper", "customer_", ("x",))),
            ),
            "two short-lived kinds share the prefix customer_",
        ),
        (
            lambda: Vocabulary(
                actors=(),
                short_lived=(CUSTOMER, ShortLivedKind("customer", "shopper_", ("x",))),
            ),
            "a short-lived kind is declared twice: customer",
        ),
        (
            lambda: Vocabulary.from_json({"actors": [], "short_lived": {"kind": "customer"}}),
            "vocabulary.short_lived must be a list",
        ),
        (
            lambda: Vocabulary.from_json({"actors": [], "short_lived": [{"kind": "customer"}]}),
            r"vocabulary.short_lived\[0\] must be an object with 'kind', 'prefix' and a 'states'",
        ),
        # colours
        (
            lambda: Vocabulary(actors=(Actor("a", ("x",)),), colours={"flying": "#000000"}),
            r"colours: 'flying' is not a declared state; declared states: \['x'\]",
        ),
        *(
            (
                lambda colour=colour: Vocabulary(
                    actors=(Actor("a", ("x",)),), colours={"x": colour}
                ),
                "colours: state 'x' has colour .*; expected '#rrggbb'",
            )
            for colour in ("red", "#12345", "#1234567", "#gggggg", "2ea043", 0x2EA043, None)
        ),
        (
            lambda: Vocabulary.from_json({"actors": [], "colours": ["#000000"]}),
            "vocabulary.colours must be an object",
        ),
        # quantities
        (
            lambda: Attribute("name", "string", quantity=True),
            "attribute 'name' is declared a quantity but has type 'string'; only int64 and float64",
        ),
        (lambda: Attribute("flag", "bool", quantity=True), "has type 'bool'"),
        (
            lambda: Vocabulary.from_json(
                {"actors": [], "attributes": [{"name": "n", "type": "int64", "quantity": "yes"}]}
            ),
            "attribute 'n': quantity must be true or false, found 'yes'",
        ),
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
    assert episode.attributes == {
        "customer": [None, 7, None],
        "till": [None, "north", None],
        "queue_length": [None, None, None],
        "load": [None, None, None],
    }


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


def test_recorder_rejects_a_name_that_is_no_instance() -> None:
    recorder = EventRecorder(VOCABULARY, lambda: 0.0)
    with pytest.raises(RecordingError, match="actor 'customer_01' is not declared"):
        recorder.enter("customer_01", "waiting")


def test_recorder_records_instances_of_short_lived_kinds() -> None:
    now = [0.0]
    recorder = EventRecorder(VOCABULARY, lambda: now[0])
    recorder.enter("customer_0", "waiting")
    recorder.enter("customer_1", "waiting")
    now[0] = 3.0
    recorder.enter("customer_0", "paying", till="north")
    now[0] = 4.0
    recorder.close("customer_0")
    with pytest.raises(RecordingError, match="cannot enter state 'serving'"):
        recorder.enter("customer_1", "serving")  # a clerk's state, not a customer's
    episode = recorder.finish(10.0)
    assert episode.actor == ["customer_0", "customer_1", "customer_0"]
    assert episode.state == ["waiting", "waiting", "paying"]
    assert episode.end == [3.0, 10.0, 4.0]
    assert episode.attributes["till"] == [None, None, "north"]
