"""Java ``toString`` rendering of JSON values, as Conductor interpolates them into strings.

When a parameter template mixes text and expressions (``"Hello ${workflow.input.name}!"``),
Conductor concatenates ``Objects.toString(value)`` of each resolved value. For values parsed from
JSON by Jackson that means: ``null``, ``true``/``false``, ``Double.toString`` for floating point
numbers, ``AbstractMap.toString`` (``{k=v, k2=v2}``) for objects and ``AbstractCollection.toString``
(``[a, b]``) for arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["java_double_string", "java_string"]


def java_string(value: Any) -> str:
    """Render ``value`` the way ``java.util.Objects.toString`` renders its Jackson equivalent."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double_string(value)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{java_string(k)}={java_string(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    return str(value)


def java_double_string(value: float) -> str:
    """``java.lang.Double.toString``: shortest round-trip digits, plain between 1e-3 and 1e7.

    Outside ``[1e-3, 1e7)`` Java uses computerized scientific notation with a mantissa that
    always has a fractional digit and an exponent without ``+`` (``1.0E21``, ``1.5E-5``).
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    magnitude = abs(value)
    if magnitude == 0.0:
        return sign + "0.0"
    digits, exponent = _shortest_digits(magnitude)
    if 1e-3 <= magnitude < 1e7:
        return sign + _plain(digits, exponent)
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{exponent}"


def _shortest_digits(magnitude: float) -> tuple[str, int]:
    """Significant digits (no trailing zeros) and the decimal exponent of the first digit."""
    mantissa, _, exp_text = f"{magnitude!r}".partition("e")
    exponent = int(exp_text) if exp_text else 0
    whole, _, fraction = mantissa.partition(".")
    all_digits = (whole + fraction).lstrip("0")
    # position of the first significant digit relative to the decimal point
    if whole.strip("0"):
        exponent += len(whole.lstrip("0")) - 1
    else:
        exponent -= len(fraction) - len(fraction.lstrip("0")) + 1
    return all_digits.rstrip("0") or "0", exponent


def _plain(digits: str, exponent: int) -> str:
    if exponent < 0:
        return "0." + "0" * (-exponent - 1) + digits
    whole = digits[: exponent + 1].ljust(exponent + 1, "0")
    fraction = digits[exponent + 1 :] or "0"
    return f"{whole}.{fraction}"
