"""Conductor ``${...}`` parameter resolution (spec 4.3)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from legato.expr.params import resolve
from legato.expr.template import parse_template

CONTEXT: dict[str, Any] = {
    "workflow": {
        "input": {
            "a": {"b": [10, 20, 30]},
            "name": "Ada",
            "count": 3,
            "ratio": 1.0,
            "huge": 1e21,
            "tiny": 1.5e-5,
            "flag": True,
            "off": False,
            "nothing": None,
            "map": {"k": "v", "n": 1},
            "list": [1, "two", None],
            "items": [{"x": 1, "id": "a"}, {"x": 5, "id": "b"}, {"x": 9, "id": "c"}],
            "key": "name",
            "with-dash": {"ok": 1},
        },
        "workflowId": "wf-1",
        "variables": {},
    },
    "fetch": {"output": {"response": {"body": {"kind": "big", "id": 7}}}, "status": "COMPLETED"},
}


def r(value: Any, **kwargs: Any) -> Any:
    return resolve(value, CONTEXT, **kwargs)


# --- whole-string expressions keep the JSON type ------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${workflow.input.a.b[0]}", 10),
        ("${workflow.input.a}", {"b": [10, 20, 30]}),
        ("${workflow.input.a.b}", [10, 20, 30]),
        ("${workflow.input.ratio}", 1.0),
        ("${workflow.input.flag}", True),
        ("${workflow.input.off}", False),
        ("${workflow.input.nothing}", None),
        ("${workflow.input.name}", "Ada"),
        ("${fetch.output.response.body.id}", 7),
        ("${fetch.status}", "COMPLETED"),
    ],
)
def test_whole_string_expression_returns_the_raw_value(template: str, expected: Any) -> None:
    result = r(template)
    assert result == expected
    assert type(result) is type(expected)


def test_whole_string_int_is_not_rendered_as_text() -> None:
    assert r("${workflow.input.count}") == 3
    assert r("${workflow.input.count} ") == "3 "


# --- mixed strings use Java toString ----------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello ${workflow.input.name}!", "Hello Ada!"),
        ("n=${workflow.input.count}", "n=3"),
        ("r=${workflow.input.ratio}", "r=1.0"),
        ("h=${workflow.input.huge}", "h=1.0E21"),
        ("t=${workflow.input.tiny}", "t=1.5E-5"),
        ("f=${workflow.input.flag}/${workflow.input.off}", "f=true/false"),
        ("z=${workflow.input.nothing}", "z=null"),
        ("m=${workflow.input.map}", "m={k=v, n=1}"),
        ("l=${workflow.input.list}", "l=[1, two, null]"),
        ("i=${workflow.input.items[0]}", "i={x=1, id=a}"),
        ("${workflow.input.name}-${workflow.input.count}", "Ada-3"),
    ],
)
def test_mixed_string_renders_values_like_java(template: str, expected: str) -> None:
    assert r(template) == expected


# --- missing and bad paths ----------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "${workflow.input.missing}",
        "${workflow.input.a.b[7]}",
        "${workflow.input.name.deeper}",
        "${workflow.input.a.b.c}",
        "${unknownTask.output.x}",
        "${workflow.input.a b}",
        "${workflow.input..}",
        "${workflow.input.map[0]}",
        "${workflow.input.unknownFunction()}",
    ],
)
def test_missing_or_bad_path_is_null(template: str) -> None:
    assert r(template) is None


def test_missing_path_inside_a_string_is_the_text_null() -> None:
    assert r("value: ${workflow.input.missing}.") == "value: null."


def test_blank_expressions_are_empty_strings() -> None:
    assert r("${}") == ""
    assert r("${   }") == ""
    assert r("a${}b${ }c") == "abc"


def test_nested_expression_is_resolved_first_then_used_as_path() -> None:
    assert r("${workflow.input.${workflow.input.key}}") == "Ada"
    assert r("x=${workflow.input.a.b[${workflow.input.count}]}") == "x=null"
    assert r("${workflow.input.a.b[${workflow.input.items[0].x}]}") == 20


def test_nested_expression_with_missing_inner_value_reads_the_null_path() -> None:
    assert r("${workflow.input.${workflow.input.missing}}") is None


def test_double_dollar_escapes_an_expression() -> None:
    assert r("$${workflow.input.name}") == "${workflow.input.name}"
    assert r("cost $${x} for ${workflow.input.name}") == "cost ${x} for Ada"


def test_unbalanced_expression_stays_literal() -> None:
    assert r("${workflow.input.name") == "${workflow.input.name"
    assert r("${workflow.input.name}}") == "Ada}"


def test_task_id_placeholder() -> None:
    assert r("${CPEWF_TASK_ID}", task_id="t-42") == "t-42"
    assert r("id=${CPEWF_TASK_ID}", task_id="t-42") == "id=t-42"


def test_task_id_placeholder_without_task_id_stays_literal() -> None:
    assert r("${CPEWF_TASK_ID}") == "${CPEWF_TASK_ID}"


def test_secrets_are_left_literally_for_later() -> None:
    assert r("${workflow.secrets.api_key}") == "${workflow.secrets.api_key}"
    assert r("Bearer ${workflow.secrets.token}") == "Bearer ${workflow.secrets.token}"
    assert r({"h": ["${workflow.secrets.a.b}"]}) == {"h": ["${workflow.secrets.a.b}"]}


def test_workflow_env_reads_the_callers_env_entry() -> None:
    with_env = {"workflow": {"env": {"REGION": "eu", "CFG": {"url": "http://x"}}}}
    assert resolve("${workflow.env.REGION}", with_env) == "eu"
    assert resolve("${workflow.env.CFG.url}", with_env) == "http://x"
    assert resolve("${workflow.env.REGION}", CONTEXT) is None


def test_bare_names_never_read_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGATO_TEST_SECRET", "leaked")
    assert r("${LEGATO_TEST_SECRET}") is None
    assert r("x${LEGATO_TEST_SECRET}") == "xnull"


# --- JSONPath features ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${workflow.input.items[*].x}", [1, 5, 9]),
        ("${workflow.input.items[?(@.x > 1)].id}", ["b", "c"]),
        ("${workflow.input.items[?(@.id == 'a')]}", [{"x": 1, "id": "a"}]),
        ("${workflow.input.items..id}", ["a", "b", "c"]),
        ("${workflow.input.items[*].missing}", []),
        ("${workflow.input.items[0:2].x}", [1, 5]),
        ("${workflow.input.items.length()}", 3),
        ("${workflow.input.map.length()}", 2),
        ("${workflow.input.items[*].x.length()}", 3),
        ("${workflow.input.items[*].x.sum()}", 15.0),
        ("${workflow.input.items[*].x.max()}", 9.0),
        ("${workflow.input.a.b[-1]}", 30),
        ("${workflow.input['with-dash'].ok}", 1),
        ('${workflow.input["with-dash"].ok}', 1),
        ("${workflow.input.with-dash.ok}", 1),
        ("${$.workflow.input.name}", "Ada"),
        ("${ workflow.input.name }", "Ada"),
        ("${workflow.input.a.b[ 1 ]}", 20),
    ],
)
def test_jsonpath_forms(template: str, expected: Any) -> None:
    result = r(template)
    assert result == expected
    assert type(result) is type(expected)


def test_indefinite_path_renders_as_a_list_in_strings() -> None:
    assert r("ids: ${workflow.input.items[*].id}") == "ids: [a, b, c]"


# --- walking values -----------------------------------------------------------------------


def test_resolves_recursively_and_passes_other_scalars_through() -> None:
    template = {
        "uri": "https://api/x/${workflow.input.count}",
        "body": {"who": "${workflow.input.name}", "tags": ["${workflow.input.flag}", 4, None]},
        "n": 5,
        "f": 1.5,
        "b": False,
        "none": None,
        "${workflow.input.name}": "keys are not resolved",
    }
    assert r(template) == {
        "uri": "https://api/x/3",
        "body": {"who": "Ada", "tags": [True, 4, None]},
        "n": 5,
        "f": 1.5,
        "b": False,
        "none": None,
        "${workflow.input.name}": "keys are not resolved",
    }


def test_resolve_does_not_mutate_its_inputs() -> None:
    template = {"a": ["${workflow.input.name}"], "b": {"c": "${workflow.input.count}"}}
    before_template, before_context = copy.deepcopy(template), copy.deepcopy(CONTEXT)
    r(template)
    assert template == before_template
    assert before_context == CONTEXT


def test_strings_without_expressions_are_returned_as_is() -> None:
    text = "no expressions, just $ and { }"
    assert r(text) is text


def test_templates_are_parsed_once() -> None:
    text = "cached ${workflow.input.name} template"
    parse_template.cache_clear()
    r(text)
    first = parse_template.cache_info()
    assert r(text) == "cached Ada template"
    second = parse_template.cache_info()
    assert second.misses == first.misses
    assert second.hits == first.hits + 1
