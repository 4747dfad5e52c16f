"""Workers written the SDK's ways, at module level so that spawned worker processes can import
them: `@worker_task` functions (sync and async) and a `WorkerInterface` class.

`WORKFLOW_STEPS` is the 3-step workflow they serve: greet -> shout -> measure.

No `from __future__ import annotations` here: the SDK maps task input to parameters by their
runtime annotations, and string annotations break it.
"""

from conductor.client.http.models import Task, TaskResult
from conductor.client.http.models.task_result_status import TaskResultStatus
from conductor.client.worker.exception import NonRetryableException
from conductor.client.worker.worker_interface import WorkerInterface
from conductor.client.worker.worker_task import worker_task

GREET = "sdkw_greet"
SHOUT = "sdkw_shout"
MEASURE = "sdkw_measure"
FLAKY = "sdkw_flaky"
FATAL = "sdkw_fatal"
POLL_MS = 20

# (task name, reference, input parameters) of the 3-step workflow the workers serve.
WORKFLOW_STEPS = [
    (GREET, "greet", {"name": "${workflow.input.name}"}),
    (SHOUT, "shout", {"text": "${greet.output.greeting}"}),
    (MEASURE, "measure", {"text": "${shout.output.text}"}),
]
WORKFLOW_OUTPUT = {"text": "${shout.output.text}", "length": "${measure.output.length}"}


@worker_task(task_definition_name=GREET, poll_interval_millis=POLL_MS)
def greet(name: str) -> dict[str, str]:
    return {"greeting": f"Hello, {name}"}


class Shout(WorkerInterface):
    """A class-based worker: builds its TaskResult itself."""

    def __init__(self) -> None:
        super().__init__(SHOUT)
        self.poll_interval = POLL_MS

    def execute(self, task: Task) -> TaskResult:
        result = self.get_task_result_from_task(task)
        result.status = TaskResultStatus.COMPLETED
        result.output_data = {"text": str(task.input_data["text"]).upper() + "!"}
        result.log("shouted")
        return result


@worker_task(task_definition_name=MEASURE, poll_interval_millis=POLL_MS)
async def measure(text: str) -> dict[str, int]:
    return {"length": len(text)}


@worker_task(task_definition_name=FLAKY, poll_interval_millis=POLL_MS)
def flaky(attempt: int) -> dict[str, int]:
    raise RuntimeError(f"flaky worker gave up on attempt {attempt}")


@worker_task(task_definition_name=FATAL, poll_interval_millis=POLL_MS)
def fatal(order: str) -> dict[str, str]:
    raise NonRetryableException(f"order {order} can never be shipped")
