"""Java ``toString`` rendering used when expressions are interpolated into strings."""

from __future__ import annotations

import math
from typing import Any

import pytest

from legato.expr.rendering import java_double_string, java_string


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1.0"),
        (-2.5, "-2.5"),
        (0.1, "0.1"),
        (100.0, "100.0"),
        (123.456, "123.456"),
        (0.001, "0.001"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (12345678.9, "1.23456789E7"),
        (1e21, "1.0E21"),
        (1.5e-5, "1.5E-5"),
        (0.0001, "1.0E-4"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        (math.nan, "NaN"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
    ],
)
def test_double_to_string(value: float, expected: str) -> None:
    assert java_double_string(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (10**20, "100000000000000000000"),
        ("text", "text"),
        ({}, "{}"),
        ([], "[]"),
        ({"a": 1, "b": "x"}, "{a=1, b=x}"),
        ([1, None, 2.0], "[1, null, 2.0]"),
        ({"a": [True, {"b": None}]}, "{a=[true, {b=null}]}"),
    ],
)
def test_to_string(value: Any, expected: str) -> None:
    assert java_string(value) == expected
