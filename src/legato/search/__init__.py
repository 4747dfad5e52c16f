"""Search over workflows and tasks, backend-neutral: fields, grammars, requests, result shapes.

Conductor serves search from Elasticsearch (or a SQL index). Legato serves it from its own
database: every backend indexes the same fields (`fields`), turns a request into the same tree
(`nodes`: `query` and `freeText` both parse into it) and answers with Conductor's shapes
(`summary`). A backend only compiles the tree to its SQL and keeps its index in step with each
commit (`documents` says what the index holds).
"""

from __future__ import annotations

from legato.search.fields import TASKS, WORKFLOWS, Absent, Catalog, Field, Kind, TextColumn
from legato.search.free_text import parse_free_text
from legato.search.nodes import And, Compare, HasTask, Match, Node, Not, Op, Or
from legato.search.query import parse_query
from legato.search.request import (
    MAX_SIZE,
    SearchPage,
    SearchRequest,
    SortKey,
    parse_sort,
    task_request,
    workflow_request,
    workflows_by_tasks_request,
)
from legato.search.summary import task_summary, workflow_summary

__all__ = [
    "MAX_SIZE",
    "TASKS",
    "WORKFLOWS",
    "Absent",
    "And",
    "Catalog",
    "Compare",
    "Field",
    "HasTask",
    "Kind",
    "Match",
    "Node",
    "Not",
    "Op",
    "Or",
    "SearchPage",
    "SearchRequest",
    "SortKey",
    "TextColumn",
    "parse_free_text",
    "parse_query",
    "parse_sort",
    "task_request",
    "task_summary",
    "workflow_request",
    "workflow_summary",
    "workflows_by_tasks_request",
]
