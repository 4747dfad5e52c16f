"""Conductor's search endpoints: `/api/workflow/search*` and `/api/tasks/search*`.

Registered before the workflow and task routers, so `/api/workflow/search` is never taken for
a workflow id. Parameter names are Conductor's exactly (camelCase), hence the non-PEP 8
argument names. `sort` may be given several times, or as `a:ASC|b:DESC`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from legato.api import responses
from legato.api.context import services_of
from legato.api.openapi import ERRORS, json_response, ref

router = APIRouter()

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_WORKFLOW_SUMMARY: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{
            name: _STRING
            for name in (
                "workflowType",
                "workflowId",
                "correlationId",
                "startTime",
                "updateTime",
                "endTime",
                "status",
                "input",
                "output",
                "reasonForIncompletion",
                "event",
                "failedReferenceTaskNames",
                "createdBy",
                "idempotencyKey",
                "parentWorkflowId",
                "classifier",
            )
        },
        **{
            name: _INTEGER
            for name in ("version", "executionTime", "priority", "inputSize", "outputSize")
        },
        "failedTaskNames": {"type": "array", "items": _STRING},
        "taskToDomain": {"type": "object", "additionalProperties": _STRING},
    },
}
_TASK_SUMMARY: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{
            name: _STRING
            for name in (
                "workflowId",
                "workflowType",
                "correlationId",
                "scheduledTime",
                "startTime",
                "updateTime",
                "endTime",
                "status",
                "reasonForIncompletion",
                "taskDefName",
                "taskType",
                "input",
                "output",
                "taskId",
                "domain",
            )
        },
        **{name: _INTEGER for name in ("executionTime", "queueWaitTime", "workflowPriority")},
    },
}


def _search_result(items: dict[str, Any]) -> dict[int | str, Any]:
    schema = {
        "type": "object",
        "properties": {"totalHits": _INTEGER, "results": {"type": "array", "items": items}},
    }
    return {**json_response(schema), **ERRORS}


Start = Annotated[int, Query(description="Offset of the first result")]
Size = Annotated[int, Query(description="Results per page (at most 5000)")]
Sort = Annotated[
    list[str] | None,
    Query(description="`field:ASC|DESC`, several joined with `|` (or repeated)"),
]
FreeText = Annotated[str, Query(description="Words to find (`*`: everything)")]
SearchQuery = Annotated[
    str | None, Query(description="Structured filter, e.g. `status = 'FAILED' AND startTime > 0`")
]
Classifier = Annotated[str | None, Query(description="Comma-separated classifiers to keep")]
TopLevelOnly = Annotated[bool, Query(description="Only workflows without a parent workflow")]


class _Search:
    """The parameters every search endpoint takes (a FastAPI dependency)."""

    def __init__(
        self,
        start: Start = 0,
        size: Size = 100,
        sort: Sort = None,
        freeText: FreeText = "*",
        query: SearchQuery = None,
    ) -> None:
        self.kwargs: dict[str, Any] = {
            "query": query,
            "free_text": freeText,
            "sort": sort,
            "start": start,
            "size": size,
        }


class _WorkflowSearch(_Search):
    """Workflow searches also filter by classifier and keep only top-level workflows."""

    def __init__(
        self,
        start: Start = 0,
        size: Size = 100,
        sort: Sort = None,
        freeText: FreeText = "*",
        query: SearchQuery = None,
        classifier: Classifier = None,
        topLevelOnly: TopLevelOnly = False,
    ) -> None:
        super().__init__(start, size, sort, freeText, query)
        self.kwargs.update(classifier=classifier, top_level_only=topLevelOnly)


SearchParams = Annotated[_Search, Depends()]
WorkflowSearchParams = Annotated[_WorkflowSearch, Depends()]


# ------------------------------------------------------------------------------ workflows
@router.get(
    "/api/workflow/search",
    tags=["workflow"],
    summary="Search workflows; answers SearchResult<WorkflowSummary>",
    responses=_search_result(_WORKFLOW_SUMMARY),
)
async def search_workflows(request: Request, params: WorkflowSearchParams) -> Response:
    search = services_of(request).search
    page = await search.workflows(**params.kwargs)
    return responses.json(search.workflow_summaries(page))


@router.get(
    "/api/workflow/search-v2",
    tags=["workflow"],
    summary="Search workflows; answers SearchResult<Workflow> (workflows without tasks)",
    responses=_search_result(ref("Workflow")),
)
async def search_workflows_v2(request: Request, params: WorkflowSearchParams) -> Response:
    search = services_of(request).search
    page = await search.workflows(**params.kwargs)
    return responses.json(search.workflow_documents(page))


@router.get(
    "/api/workflow/search-by-tasks",
    tags=["workflow"],
    summary="Search workflows by their tasks (query and freeText over task fields)",
    responses=_search_result(_WORKFLOW_SUMMARY),
)
async def search_workflows_by_tasks(request: Request, params: SearchParams) -> Response:
    search = services_of(request).search
    page = await search.workflows_by_tasks(**params.kwargs)
    return responses.json(search.workflow_summaries(page))


@router.get(
    "/api/workflow/search-by-tasks-v2",
    tags=["workflow"],
    summary="Search workflows by their tasks; answers SearchResult<Workflow>",
    responses=_search_result(ref("Workflow")),
)
async def search_workflows_by_tasks_v2(request: Request, params: SearchParams) -> Response:
    search = services_of(request).search
    page = await search.workflows_by_tasks(**params.kwargs)
    return responses.json(search.workflow_documents(page))


# ------------------------------------------------------------------------------ tasks
@router.get(
    "/api/tasks/search",
    tags=["tasks"],
    summary="Search tasks; answers SearchResult<TaskSummary>",
    responses=_search_result(_TASK_SUMMARY),
)
async def search_tasks(request: Request, params: SearchParams) -> Response:
    search = services_of(request).search
    page = await search.tasks(**params.kwargs)
    return responses.json(search.task_summaries(page))


@router.get(
    "/api/tasks/search-v2",
    tags=["tasks"],
    summary="Search tasks; answers SearchResult<Task>",
    responses=_search_result(ref("Task")),
)
async def search_tasks_v2(request: Request, params: SearchParams) -> Response:
    search = services_of(request).search
    page = await search.tasks(**params.kwargs)
    return responses.json(await search.task_documents(page))
