"""The search request shared by workflow and task search (`/api/workflow/search`,
`/api/tasks/search`): the same query parameters, answered as a page of raw summaries."""

from __future__ import annotations

from typing import Any

from legato.client import call as c
from legato.client.call import Call
from legato.client.models import SearchResult


def search_call(
    path: str, query: str | None, *, free_text: str, start: int, size: int, sort: str | None
) -> Call[SearchResult[dict[str, Any]]]:
    """`GET path` with Conductor's search parameters; summaries as the server sends them."""
    return Call(
        "GET",
        path,
        c.search_of(c.raw),
        params=c.query(query=query, freeText=free_text, start=start, size=size, sort=sort),
    )
