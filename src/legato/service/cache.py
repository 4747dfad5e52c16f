"""Running workflows kept in memory between facts, so a task update need not reload them.

Correctness never depends on the cache: every commit checks the workflow's revision, and a
conflict drops the cached copy and reloads. A workflow is taken out of the cache while a fact is
being decided on it (so nothing else can see it half-changed) and put back after its commit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from legato.model import Workflow
from legato.store.base import ClaimedTask


class RunningWorkflows:
    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Workflow] = OrderedDict()

    def take(self, workflow_id: str) -> Workflow | None:
        return self._items.pop(workflow_id, None)

    def put(self, wf: Workflow) -> None:
        if wf.status.terminal:
            self._items.pop(wf.workflow_id, None)
            return
        self._items[wf.workflow_id] = wf
        self._items.move_to_end(wf.workflow_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def drop(self, workflow_id: str) -> None:
        self._items.pop(workflow_id, None)

    def claimed(self, claims: Iterable[ClaimedTask]) -> None:
        """Tasks were handed to workers: mirror the claim, or forget a copy that is behind."""
        by_workflow: dict[str, list[ClaimedTask]] = {}
        for claim in claims:
            by_workflow.setdefault(claim.task.workflow_instance_id, []).append(claim)
        for workflow_id, group in by_workflow.items():
            wf = self._items.get(workflow_id)
            if wf is None:
                continue
            new_rev = group[0].workflow_rev
            if wf.rev != new_rev - 1:
                del self._items[workflow_id]
                continue
            index = {t.task_id: i for i, t in enumerate(wf.tasks)}
            for claim in group:
                i = index.get(claim.task.task_id)
                if i is None:
                    break
                wf.tasks[i] = claim.task
            else:
                wf.rev = new_rev
                wf.next_wake_at = _lower(wf.next_wake_at, group)
                continue
            del self._items[workflow_id]

    def __len__(self) -> int:
        return len(self._items)


def _lower(current: int | None, group: list[ClaimedTask]) -> int | None:
    """The claim lowered next_wake_at to each task's response deadline, as the store did."""
    best = current
    for claim in group:
        t = claim.task
        if t.response_timeout_seconds > 0:
            due = t.update_time + t.response_timeout_seconds * 1000
            if best is None or due < best:
                best = due
    return best
