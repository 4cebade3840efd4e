"""Checkpoints are plain JSON data, restore without unpickling anything and continue exactly;
format-1 checkpoints (pickles of older ssropt studies) are converted only where that is safe.
"""

from __future__ import annotations

import base64
import json
import math
import pickle

import numpy as np
import pytest

from ssropt.engine.checkpoint import CHECKPOINT_KEY, decode_state, encode_state
from ssropt.engine.study import StudyError
from ssropt.errors import SsroptError
from ssropt.objectives.models import CostModel
from ssropt.objectives.platforms import load_platform
from ssropt.objectives.workloads.zoo import build_model
from ssropt.spaces import Space, SpaceOptions, group_preset
from ssropt.strategies import HAS_TORCH, make_strategy, space_size

POPULATION = 12
STRATEGIES = ["nsga2", "optuna-nsga2", "tpe", "qmc", "random", "exhaustive", "ssr-ea"]
STRATEGIES += ["gp"] if HAS_TORCH else []
# generation 1 is told only part of its genomes, as when the loop cuts a generation short
TRUNCATE = {1: 5, 4: 7}


@pytest.fixture(scope="module")
def space():
    """A small hybrid space (two batch sizes, so nsga2 keeps batch niches) that exhaustive
    can enumerate and ssr-ea can configure."""
    model = CostModel(
        build_model("deit-t", tokens=192, blocks=1, embed_and_head=False),
        load_platform("vck190"),
        "int8",
    )
    values = {"h1": (32,), "w1": (48,), "w2": (32,), "a": (2, 4), "b": (4,), "c": (4,)}
    options = SpaceOptions(
        family="hybrid",
        batch_sizes=(1, 2),
        values={**values, "dup": (1,)},
        groups=group_preset("attention"),
        max_accelerators=3,
    )
    return Space(model, options)


def run(strategy, space, generations, truncate):
    """Ask -> evaluate -> tell ``generations`` times; ``truncate`` maps generation -> rows told
    (generations counted from the strategy's current one)."""
    asks = []
    while not strategy.finished and len(asks) < generations:
        genomes = strategy.ask()
        asks.append(genomes)
        keep = truncate.get(strategy.generation, len(genomes))
        result = space.evaluate(genomes[:keep])
        strategy.tell(result.genomes, result.F, result.G)
    return asks


def assert_plain(value, where="checkpoint"):
    """Only dicts with string keys, lists, strings, ints, finite floats, booleans and None."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{where}: key {key!r}"
            assert_plain(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_plain(item, f"{where}[{i}]")
    else:
        assert value is None or type(value) in (bool, int, float, str), f"{where}: {value!r}"
        assert not isinstance(value, float) or math.isfinite(value), f"{where}: {value!r}"


@pytest.fixture
def no_unpickling(monkeypatch):
    """Make every way of unpickling fail."""

    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint was unpickled")

    for name in ("loads", "load", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)


def test_the_space_suits_every_strategy(space):
    assert 0 < space_size(space) < 100_000
    assert space.model.cost_model == "ssr"


@pytest.mark.parametrize("name", STRATEGIES)
@pytest.mark.parametrize("stop", [0, 2])
def test_checkpoint_is_plain_json_and_restores_exactly_without_unpickling(
    name, stop, space, request
):
    uninterrupted = make_strategy(name, space, seed=7, population_size=POPULATION)
    expected = run(uninterrupted, space, stop + 3, TRUNCATE)
    expected_state = uninterrupted.state_dict()
    assert len(expected) == stop + 3  # nothing finished early: the comparison means something

    before = make_strategy(name, space, seed=7, population_size=POPULATION)
    run(before, space, stop, TRUNCATE)
    checkpoint = before.state_dict()
    assert_plain(checkpoint)
    stored = json.dumps(checkpoint, allow_nan=False)  # strict JSON, as storages write it
    assert json.loads(stored) == checkpoint
    assert checkpoint["format"] == 2 and checkpoint["generation"] == stop

    request.getfixturevalue("no_unpickling")
    restored = make_strategy(name, space, seed=7, population_size=POPULATION)
    restored.load_state(json.loads(stored))
    assert restored.generation == stop
    resumed = run(restored, space, 3, TRUNCATE)
    assert len(resumed) == 3
    for a, b in zip(expected[stop:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)
    # and the state it reaches is the uninterrupted run's, to the last bit
    assert restored.state_dict() == expected_state


def test_nsga2_checkpoint_keeps_mating_exhausted(space):
    """On 8 designs nsga2 runs out of new offspring: an empty ask, then ``finished``."""
    tiny = Space(
        space.model,
        SpaceOptions(
            family="sequential",
            batch_sizes=(1, 2),
            values={"h1": (32,), "w1": (48,), "w2": (32,), "a": (2, 4), "b": (4,), "c": (4, 6),
                    "dup": (1,)},
        ),
    )
    assert space_size(tiny) == 8
    strategy = make_strategy("nsga2", tiny, seed=0, population_size=4)
    asks, states = [], []
    while not strategy.finished and len(asks) < 500:
        states.append(strategy.state_dict())
        asks.append(strategy.ask())
        result = tiny.evaluate(asks[-1]) if len(asks[-1]) else None
        if result is not None:
            strategy.tell(result.genomes, result.F, result.G)
    assert strategy.finished and len(asks[-1]) == 0 and len(asks) > 3
    for back in (1, 3):  # before the empty ask, and a few generations earlier
        restored = make_strategy("nsga2", tiny, seed=0, population_size=4)
        restored.load_state(json.loads(json.dumps(states[-back])))
        for expected in asks[-back:]:
            assert not restored.finished
            genomes = restored.ask()
            np.testing.assert_array_equal(genomes, expected)
            if len(genomes):
                result = tiny.evaluate(genomes)
                restored.tell(result.genomes, result.F, result.G)
        assert restored.finished and restored.state_dict() == strategy.state_dict()
    restored = make_strategy("nsga2", tiny, seed=0, population_size=4)
    restored.load_state(strategy.state_dict())
    assert restored.finished


@pytest.mark.parametrize("name", STRATEGIES)
def test_checkpoint_as_json_text_restores(name, space, no_unpickling):
    strategy = make_strategy(name, space, seed=3, population_size=POPULATION)
    run(strategy, space, 2, TRUNCATE)
    text = json.dumps(strategy.state_dict())
    for stored in (text, text.encode()):
        restored = make_strategy(name, space, seed=3, population_size=POPULATION)
        restored.load_state(stored)
        assert restored.state_dict() == strategy.state_dict()


def test_checkpoint_is_a_copy_that_later_generations_do_not_change(space):
    strategy = make_strategy("ssr-ea", space, seed=0, population_size=POPULATION)
    run(strategy, space, 2, {})
    checkpoint = strategy.state_dict()
    frozen = json.dumps(checkpoint)
    run(strategy, space, 2, {})
    assert json.dumps(checkpoint) == frozen != json.dumps(strategy.state_dict())


def test_a_pickle_is_refused_by_load_state(space, no_unpickling):
    strategy = make_strategy("exhaustive", space, seed=0, population_size=POPULATION)
    blob = b"\x80\x05\x95" + bytes(20)  # what a format-1 checkpoint starts with
    with pytest.raises(SsroptError, match="not a JSON checkpoint"):
        strategy.load_state(blob)
    with pytest.raises(SsroptError, match="not a checkpoint of format 2"):
        strategy.load_state({"format": 1, "strategy": "exhaustive"})


# -- format 1: base64 pickles written by older ssropt versions -----------------------------------------
def format1(strategy, old_state) -> dict:
    """The study attribute an older ssropt wrote: the pickled envelope, base64-encoded."""
    envelope = {
        "format": 1,
        "strategy": strategy.name,
        "settings": strategy._settings(),
        "generation": strategy.generation,
        "state": old_state,
    }
    blob = pickle.dumps(envelope, protocol=pickle.HIGHEST_PROTOCOL)
    return {CHECKPOINT_KEY: {"generation": strategy.generation, "evaluated": 99,
                             "state": base64.b64encode(blob).decode("ascii")}}


def old_state(strategy) -> dict:
    """What the format-1 ``_state`` of exhaustive and ssr-ea returned (numpy arrays)."""
    if strategy.name == "exhaustive":
        return {"position": strategy.position}
    return {
        "rng": strategy._rng.bit_generator.state,
        "population": list(strategy._population),
        "cost": list(strategy._cost),
        "iterations": list(strategy._iterations),
        "done": list(strategy._done),
        "cursor": strategy._cursor,
        "initial_pending": strategy._initial_pending,
    }


@pytest.mark.parametrize("name", ["exhaustive", "ssr-ea"])
def test_format1_checkpoints_of_plain_state_are_converted_and_resume_exactly(
    name, space, monkeypatch
):
    uninterrupted = make_strategy(name, space, seed=2, population_size=POPULATION)
    expected = run(uninterrupted, space, 6, TRUNCATE)
    before = make_strategy(name, space, seed=2, population_size=POPULATION)
    run(before, space, 3, TRUNCATE)
    attrs = format1(before, old_state(before))
    assert any(isinstance(p, np.ndarray) for p in old_state(before).get("population", [])) or (
        name == "exhaustive"
    )

    monkeypatch.setattr(pickle, "loads", pytest.fail)  # only the numpy-only unpickler reads it
    generation, evaluated, state = decode_state(attrs)
    assert (generation, evaluated) == (3, 99)
    assert_plain(state)
    assert state == before.state_dict()  # the same checkpoint as format 2
    restored = make_strategy(name, space, seed=2, population_size=POPULATION)
    restored.load_state(state)
    for a, b in zip(expected[3:], run(restored, space, 3, TRUNCATE), strict=True):
        np.testing.assert_array_equal(a, b)


REFUSED = "this study was written by an older ssropt, whose checkpoint of the 'nsga2' strategy"


def test_format1_checkpoint_of_library_objects_is_refused_in_one_line(space, monkeypatch):
    strategy = make_strategy("nsga2", space, seed=0, population_size=POPULATION)
    run(strategy, space, 2, {})
    algorithm = strategy._algorithm
    problem, algorithm.problem = algorithm.problem, None
    blob = pickle.dumps(algorithm)  # what format 1 held: the pickled pymoo algorithm
    algorithm.problem = problem
    attrs = format1(strategy, {"algorithm": blob, "exhausted": False})

    monkeypatch.setattr(pickle, "loads", pytest.fail)
    with pytest.raises(StudyError, match="^" + REFUSED) as refused:
        decode_state(attrs)
    message = str(refused.value)
    assert "\n" not in message
    assert "cannot be restored safely: start a new study with `ssropt run`" in message


def test_format1_pickle_with_other_objects_is_refused_without_running_them(space, tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    strategy = make_strategy("exhaustive", space, seed=0, population_size=POPULATION)
    attrs = format1(strategy, {"position": Payload()})
    with pytest.raises(StudyError, match="^this study was written by an older ssropt, whose "
                                         "checkpoint of its strategy's state"):
        decode_state(attrs)
    assert not marker.exists()


def test_format2_checkpoints_pass_through_the_study_attribute(space):
    strategy = make_strategy("qmc", space, seed=0, population_size=POPULATION)
    run(strategy, space, 1, {})
    attrs = json.loads(json.dumps(encode_state(1, 12, strategy.state_dict()), allow_nan=False))
    assert decode_state(attrs) == (1, 12, strategy.state_dict())
    assert decode_state({}) is None
