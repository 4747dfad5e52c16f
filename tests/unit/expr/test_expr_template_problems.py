"""Registration-time checks of ``${...}`` templates."""

from __future__ import annotations

from legato.expr.params import template_problems

ROOTS = {"fetch", "route"}


def test_clean_templates_have_no_problems() -> None:
    value = {
        "a": "${workflow.input.x}",
        "b": ["${fetch.output.body}", "id ${CPEWF_TASK_ID}", 5, None],
        "c": {"d": "${route.output.selectedCase} and ${workflow.secrets.key}"},
        "e": "${} ${ } plain $${unknown.escaped}",
        "f": "${workflow.input.items[?(@.x > 1)].id}",
        "g": "${$.fetch.output}",
    }
    assert template_problems(value, ROOTS) == []


def test_unknown_root_is_reported_with_its_location() -> None:
    value = {"a": {"b": [1, 2, "${nope.output.x}"]}}
    problems = template_problems(value, ROOTS)
    assert len(problems) == 1
    location, message = problems[0]
    assert location == "a.b[2]"
    assert "nope" in message
    assert "${nope.output.x}" in message


def test_unparseable_expression_is_reported() -> None:
    problems = template_problems({"x": "${workflow.input.a b}"}, ROOTS)
    assert [location for location, _ in problems] == ["x"]
    assert "invalid path" in problems[0][1]


def test_odd_keys_are_quoted_in_locations() -> None:
    problems = template_problems({"with-dash": {"ok": "${ghost}"}}, ROOTS)
    assert problems[0][0] == "['with-dash'].ok"


def test_top_level_string_has_an_empty_location() -> None:
    assert template_problems("${ghost.output}", ROOTS)[0][0] == ""


def test_bracket_root_and_nested_expressions_are_checked() -> None:
    value = ["${['ghost'].output}", "${ghost2.${workflow.input.k}}", "${workflow.${nope.x}}"]
    problems = template_problems(value, ROOTS)
    assert [location for location, _ in problems] == ["[0]", "[1]", "[2]"]
    assert "'ghost'" in problems[0][1]
    assert "'ghost2'" in problems[1][1]
    assert "'nope'" in problems[2][1]


def test_known_roots_come_from_the_caller() -> None:
    assert template_problems("${later.output}", ROOTS) != []
    assert template_problems("${later.output}", ROOTS | {"later"}) == []


def test_every_problem_in_one_string_is_reported() -> None:
    problems = template_problems("${a.x} and ${b.y}", ROOTS)
    assert len(problems) == 2
