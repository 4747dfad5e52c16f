"""A whole search as the store receives it: where, sort, paging; and the page it answers.

`workflow_request` / `task_request` / `workflows_by_tasks_request` build one from Conductor's
request parameters (`start`, `size`, `sort`, `freeText`, `query`, and on workflow searches
`classifier` and `topLevelOnly`), raising `ValidationError` (400) for anything malformed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from legato.errors import FieldProblem, ValidationError
from legato.search.conditions import RawValue, condition, problem
from legato.search.fields import TASKS, WORKFLOWS, Catalog, Field, unknown_field
from legato.search.free_text import parse_free_text
from legato.search.nodes import HasTask, Node, Op, all_of
from legato.search.query import parse_query

T = TypeVar("T")

# Conductor's cap on a page (`@Max(5_000)` on WorkflowService's search methods).
MAX_SIZE = 5000


@dataclass(frozen=True, slots=True)
class SortKey:
    field: Field
    descending: bool = False


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What to find (`where`, None: everything), in which order and which page of it.

    Backends order by `sort`, then by the document's id (ascending) so pages never overlap;
    with no `sort` they use the id alone. `total_hits` of the answer counts every match."""

    where: Node | None = None
    sort: tuple[SortKey, ...] = ()
    start: int = 0
    size: int = 100


@dataclass(slots=True)
class SearchPage(Generic[T]):
    total_hits: int
    results: list[T]


# Newest first when the caller names no order (Conductor leaves the order to its index).
WORKFLOW_DEFAULT_SORT = (SortKey(WORKFLOWS.fields["startTime"], descending=True),)
TASK_DEFAULT_SORT = (SortKey(TASKS.fields["scheduledTime"], descending=True),)


def parse_sort(text: str | Sequence[str] | None, catalog: Catalog) -> tuple[SortKey, ...]:
    """`field[:ASC|DESC]`, several joined with `|` (or `,`, or given as repeated parameters)."""
    parts: list[str] = []
    for item in [text] if isinstance(text, str) else list(text or ()):
        for chunk in item.replace(",", "|").split("|"):
            if chunk.strip():
                parts.append(chunk.strip())
    keys: list[SortKey] = []
    for part in parts:
        name, sep, order = part.partition(":")
        name, order = name.strip(), order.strip().upper()
        found = catalog.lookup(name)
        if found is None:
            raise unknown_field(catalog, name, "sort", None)
        if not found.sortable:
            raise problem("sort", f"{found.name} cannot be sorted on (it is full text)", part)
        if sep and order not in ("ASC", "DESC"):
            raise problem("sort", f"the order of '{name}' must be ASC or DESC, not '{order}'", part)
        keys.append(SortKey(found, descending=order == "DESC"))
    return tuple(keys)


def check_paging(start: int, size: int, what: str) -> None:
    if start < 0:
        raise ValidationError(
            "start must not be negative", [FieldProblem("start", "must be 0 or more", start)]
        )
    if size < 0:
        raise ValidationError(
            "size must not be negative", [FieldProblem("size", "must be 0 or more", size)]
        )
    if size > MAX_SIZE:
        message = f"Cannot return more than {MAX_SIZE} {what}. Please use pagination."
        raise ValidationError(message, [FieldProblem("size", message, size)])


def workflow_request(
    *,
    query: str | None = None,
    free_text: str | None = None,
    sort: str | Sequence[str] | None = None,
    start: int = 0,
    size: int = 100,
    classifier: str | None = None,
    top_level_only: bool = False,
) -> SearchRequest:
    check_paging(start, size, "workflows")
    where = all_of(
        parse_query(query, WORKFLOWS),
        parse_free_text(free_text, WORKFLOWS),
        _classifier(classifier),
        _top_level() if top_level_only else None,
    )
    keys = parse_sort(sort, WORKFLOWS) or WORKFLOW_DEFAULT_SORT
    return SearchRequest(where, keys, start, size)


def workflows_by_tasks_request(
    *,
    query: str | None = None,
    free_text: str | None = None,
    sort: str | Sequence[str] | None = None,
    start: int = 0,
    size: int = 100,
) -> SearchRequest:
    """Workflows with at least one task matching `query` and `freeText` (task fields), each
    once, ordered by `sort` over workflow fields."""
    check_paging(start, size, "workflows")
    on_tasks = all_of(parse_query(query, TASKS), parse_free_text(free_text, TASKS))
    where = HasTask(on_tasks) if on_tasks is not None else None
    keys = parse_sort(sort, WORKFLOWS) or WORKFLOW_DEFAULT_SORT
    return SearchRequest(where, keys, start, size)


def task_request(
    *,
    query: str | None = None,
    free_text: str | None = None,
    sort: str | Sequence[str] | None = None,
    start: int = 0,
    size: int = 100,
) -> SearchRequest:
    check_paging(start, size, "tasks")
    where = all_of(parse_query(query, TASKS), parse_free_text(free_text, TASKS))
    keys = parse_sort(sort, TASKS) or TASK_DEFAULT_SORT
    return SearchRequest(where, keys, start, size)


def _classifier(classifier: str | None) -> Node | None:
    """Conductor's `classifier=a,b`: `classifier IN (a,b)` (blank parts ignored)."""
    if classifier is None:
        return None
    values = [RawValue(v.strip(), 0) for v in classifier.split(",") if v.strip()]
    if not values:
        return None
    field = WORKFLOWS.fields["classifier"]
    return condition(field, Op.IN, values, param="classifier", position=0)


def _top_level() -> Node:
    """Conductor's `topLevelOnly=true`: `parentWorkflowId = ""` (no parent workflow)."""
    return condition(
        WORKFLOWS.fields["parentWorkflowId"],
        Op.EQ,
        [RawValue("", 0, quoted=True)],
        param="topLevelOnly",
        position=0,
    )
