"""Conductor's search endpoints: `/api/workflow/search*` and `/api/tasks/search*`.

Registered before the workflow and task routers, so `/api/workflow/search` is never taken for
a workflow id. Parameter names are Conductor's exactly (camelCase), hence the non-PEP 8
argument names. `sort` may be given several times, or as `a:ASC|b:DESC`.
"""

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from legato.api import responses
from legato.api.context import services_of
from legato.api.openapi import ERRORS, json_response, ref
from legato.search.request import SearchPage
from legato.service.search import SearchService

router = APIRouter()

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}


def _object_schema(
    strings: tuple[str, ...], integers: tuple[str, ...], **more: Any
) -> dict[str, Any]:
    """The schema of an object of these string and integer properties (then `more`)."""
    properties = {
        **{name: _STRING for name in strings},
        **{name: _INTEGER for name in integers},
        **more,
    }
    return {"type": "object", "properties": properties}


_WORKFLOW_SUMMARY = _object_schema(
    (
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
    ),
    ("version", "executionTime", "priority", "inputSize", "outputSize"),
    failedTaskNames={"type": "array", "items": _STRING},
    taskToDomain={"type": "object", "additionalProperties": _STRING},
)
_TASK_SUMMARY = _object_schema(
    (
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
    ),
    ("executionTime", "queueWaitTime", "workflowPriority"),
)


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


def _search_route(
    path: str,
    name: str,
    tag: str,
    summary: str,
    items: dict[str, Any],
    parameters: type[_Search],
    find: Callable[..., Awaitable[SearchPage[Any]]],
    render: Callable[[SearchService, SearchPage[Any]], Any],
) -> None:
    """`GET path`: the search `find` with the query parameters of `parameters`, its page
    answered as `render` shows it (`SearchService` methods; `render` may be async) in a
    SearchResult of `items`.

    FastAPI reads the endpoint's annotations, and they name a local (`Params`): this module's
    annotations are evaluated when defined, not postponed."""
    Params = Annotated[_Search, Depends(parameters)]

    async def endpoint(request: Request, params: Params) -> Response:
        search = services_of(request).search
        answer = render(search, await find(search, **params.kwargs))
        return responses.json(await answer if inspect.isawaitable(answer) else answer)

    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        name=name,
        tags=[tag],
        summary=summary,
        responses=_search_result(items),
    )


# ------------------------------------------------------------------------------ workflows
_search_route(
    "/api/workflow/search",
    "search_workflows",
    "workflow",
    "Search workflows; answers SearchResult<WorkflowSummary>",
    _WORKFLOW_SUMMARY,
    _WorkflowSearch,
    SearchService.workflows,
    SearchService.workflow_summaries,
)
_search_route(
    "/api/workflow/search-v2",
    "search_workflows_v2",
    "workflow",
    "Search workflows; answers SearchResult<Workflow> (workflows without tasks)",
    ref("Workflow"),
    _WorkflowSearch,
    SearchService.workflows,
    SearchService.workflow_documents,
)
_search_route(
    "/api/workflow/search-by-tasks",
    "search_workflows_by_tasks",
    "workflow",
    "Search workflows by their tasks (query and freeText over task fields)",
    _WORKFLOW_SUMMARY,
    _Search,
    SearchService.workflows_by_tasks,
    SearchService.workflow_summaries,
)
_search_route(
    "/api/workflow/search-by-tasks-v2",
    "search_workflows_by_tasks_v2",
    "workflow",
    "Search workflows by their tasks; answers SearchResult<Workflow>",
    ref("Workflow"),
    _Search,
    SearchService.workflows_by_tasks,
    SearchService.workflow_documents,
)

# ------------------------------------------------------------------------------ tasks
_search_route(
    "/api/tasks/search",
    "search_tasks",
    "tasks",
    "Search tasks; answers SearchResult<TaskSummary>",
    _TASK_SUMMARY,
    _Search,
    SearchService.tasks,
    SearchService.task_summaries,
)
_search_route(
    "/api/tasks/search-v2",
    "search_tasks_v2",
    "tasks",
    "Search tasks; answers SearchResult<Task>",
    ref("Task"),
    _Search,
    SearchService.tasks,
    SearchService.task_documents,
)
