"""The API's stricter request fields: a comma-separated list's default pattern answers at once, whatever it is given.

The pattern is matched by Python's backtracking `re`; with a part that could also take the
spaces around it, a list of 20 segments that fails at its end took hours. The hostile match
runs in a child process, so a regression fails the test at its time limit instead of hanging it.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from rest_framework import serializers

from core.api.fields import CommaListField, comma_list_pattern

HOSTILE = ",".join([" a "] * 20) + ","  # every space could sit on either side of its part; the final comma fails


def test_the_default_part_pattern_does_not_backtrack_on_a_hostile_list():
    pattern = comma_list_pattern(CommaListField.part)
    try:
        completed = subprocess.run([sys.executable, "-c", "import re, sys; print(bool(re.fullmatch(*sys.argv[1:])))",
                                    pattern, HOSTILE], capture_output=True, text=True, timeout=20, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{pattern!r} was still matching {HOSTILE!r} after 20 s (exponential backtracking)")
    assert completed.stdout.strip() == "False"


@pytest.mark.parametrize("value, parts", [
    ("a", ["a"]), (" a , b c ,d ", ["a", "b c", "d"]), ("a,a", ["a"]),
    (",".join(["  word " + " " * 30 + "word  "] * 300), ["word " + " " * 30 + "word"]),
])
def test_the_default_pattern_still_takes_lists_with_spaces(value, parts):
    assert CommaListField(child=serializers.CharField()).to_internal_value(value) == parts


@pytest.mark.parametrize("value", ["", " ", "a,", ",a", "a,,b", "a, ,b", HOSTILE])
def test_the_default_pattern_refuses_empty_parts(value):
    assert not re.fullmatch(comma_list_pattern(CommaListField.part), value)
    with pytest.raises(serializers.ValidationError):
        CommaListField(child=serializers.CharField()).to_internal_value(value)
