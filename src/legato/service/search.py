"""Search use cases: Conductor's `/search` endpoints over workflows and tasks.

Requests are parsed and checked here (`legato.search.request`: a malformed query is a 400
naming the token, an unknown field a 400 naming the field), answered by the store from its
own index (one read snapshot per search) and rendered in Conductor's shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict, Unpack

from legato.engine.decider import workflow_task_of
from legato.model import Task, Workflow
from legato.search import request as requests
from legato.search.fields import WORKFLOWS
from legato.search.nodes import Compare, Op
from legato.search.request import SearchPage, SearchRequest
from legato.search.summary import task_summary, workflow_summary
from legato.store.base import Store


class SearchParams(TypedDict, total=False):
    """The parameters of every search, checked and defaulted by `legato.search.request`:
    `query` and `free_text` filter, `sort` orders (newest first when absent), `start` and
    `size` page (0 and 100 when absent)."""

    query: str | None
    free_text: str | None
    sort: str | Sequence[str] | None
    start: int
    size: int


class WorkflowSearchParams(SearchParams, total=False):
    """A workflow search also keeps only some `classifier`s, or `top_level_only` workflows."""

    classifier: str | None
    top_level_only: bool


class SearchService:
    def __init__(self, store: Store, *, summary_json: bool = False) -> None:
        self.store = store
        # Conductor's conductor.app.summary-input-output-json-serialization.enabled: summaries
        # carry input/output as JSON rather than Java's Map.toString form.
        self.summary_json = summary_json

    # ------------------------------------------------------------------ searching
    async def workflows(self, **params: Unpack[WorkflowSearchParams]) -> SearchPage[Workflow]:
        return await self.store.search_workflows(requests.workflow_request(**params))

    async def workflows_by_tasks(self, **params: Unpack[SearchParams]) -> SearchPage[Workflow]:
        """Workflows having a task that matches `query` / `freeText` (task fields), each once."""
        return await self.store.search_workflows(requests.workflows_by_tasks_request(**params))

    async def tasks(self, **params: Unpack[SearchParams]) -> SearchPage[Task]:
        return await self.store.search_tasks(requests.task_request(**params))

    # ------------------------------------------------------------------ rendering
    def workflow_summaries(self, page: SearchPage[Workflow]) -> dict[str, Any]:
        """SearchResult<WorkflowSummary>."""
        return _result(
            page, [workflow_summary(wf, json_io=self.summary_json) for wf in page.results]
        )

    def workflow_documents(self, page: SearchPage[Workflow]) -> dict[str, Any]:
        """SearchResult<Workflow>: Conductor's Workflow JSON without tasks, as its `-v2`
        searches answer (they read each workflow with includeTasks=false)."""
        return _result(
            page,
            [wf.to_json(include_tasks=False, task_lookup=workflow_task_of) for wf in page.results],
        )

    def task_summaries(self, page: SearchPage[Task]) -> dict[str, Any]:
        """SearchResult<TaskSummary>."""
        return _result(page, [task_summary(t, json_io=self.summary_json) for t in page.results])

    async def task_documents(self, page: SearchPage[Task]) -> dict[str, Any]:
        """SearchResult<Task>: Conductor's Task JSON, with its workflowTask and taskDefinition
        (the workflows' definitions read with one more search)."""
        definitions = await self._workflows_of(page.results)
        results = []
        for task in page.results:
            wf = definitions.get(task.workflow_instance_id)
            results.append(task.to_json(workflow_task_of(wf, task) if wf is not None else None))
        return _result(page, results)

    async def _workflows_of(self, tasks: list[Task]) -> dict[str, Workflow]:
        ids = tuple(dict.fromkeys(t.workflow_instance_id for t in tasks))
        if not ids:
            return {}
        where = Compare(WORKFLOWS.fields["workflowId"], Op.IN, ids)
        page = await self.store.search_workflows(SearchRequest(where, (), 0, len(ids)))
        return {wf.workflow_id: wf for wf in page.results}


def _result(page: SearchPage[Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"totalHits": page.total_hits, "results": results}
