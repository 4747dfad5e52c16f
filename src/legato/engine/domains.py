"""Task-to-domain: the domain (and so the queue) a worker task is offered in.

Called from `Run.enqueue`; pure like the rest of the decider (recent polls come from the
context).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from legato.model import Task

if TYPE_CHECKING:
    from legato.engine.decider import Run

# A domain counts as served when a worker polled it this recently (Conductor's
# activeWorkerLastPollTimeout).
ACTIVE_WORKER_MS = 10_000


def queue_name(run: Run, task: Task) -> str:
    domain = domain_for(run, task)
    task.domain = domain
    return f"{domain}:{task.task_type}" if domain else task.task_type


def domain_for(run: Run, task: Task) -> str | None:
    mapping = run.wf.task_to_domain
    if not mapping or not task.callback_from_worker:
        return None
    spec = mapping.get(task.task_def_name) or mapping.get("*")
    if not spec:
        return None
    choices = [d.strip() for d in spec.split(",") if d.strip()]
    if not choices:
        return None
    # Conductor: the first domain with a worker polling lately, else the last one named.
    chosen = choices[-1]
    for domain in choices[:-1]:
        last = run.ctx.last_poll(task.task_type, None if domain == "NO_DOMAIN" else domain)
        if last is not None and run.now - last <= ACTIVE_WORKER_MS:
            chosen = domain
            break
    return None if chosen == "NO_DOMAIN" else chosen
