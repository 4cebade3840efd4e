"""The declared dependency ranges: lower bounds only, and the lowest-versions constraints
file CI installs (``tests/constraints-lowest.txt``) generated from them."""

from __future__ import annotations

import tomllib

from lowest_constraints import CONSTRAINTS, PYPROJECT, lowest_constraints, requirements


def test_the_lowest_constraints_file_matches_the_declared_bounds():
    assert CONSTRAINTS.read_text() == lowest_constraints(PYPROJECT.read_text()), (
        "run python tests/lowest_constraints.py"
    )


def test_every_dependency_has_a_lower_bound_and_no_upper_bound():
    for requirement in requirements(tomllib.loads(PYPROJECT.read_text())):
        assert ">=" in requirement, requirement
        assert "<" not in requirement and "==" not in requirement, (
            f"{requirement}: an upper bound needs a known break, named in a comment"
        )


def test_a_pin_follows_its_lower_bound():
    text = '[project]\ndependencies = ["numpy>=1.2", "psycopg[binary]>=3.1.4"]\n'
    assert lowest_constraints(text).splitlines()[1:] == [
        "numpy==1.2", "psycopg==3.1.4", "psycopg-binary==3.1.4",
    ]
