"""Workflow definitions as code: a small fluent builder over Conductor's operators.

    from legato.client import dsl

    flow = (
        dsl.workflow("checkout", version=1)
        .then(validate := dsl.task(validate_order, input={"order": dsl.input("order")}))
        .then(dsl.switch("route", value=validate.output("size"),
                         cases={"big": [dsl.human("approval")]}))
        .then(dsl.task(charge, input={"total": validate.output("total")}))
        .output(receipt=dsl.ref("charge").output("receipt"))
    )
    client.register(flow)          # its task definitions, then the workflow definition

Operators are functions returning `Step`s; a worker task is referenced by its function
(anything with a `name`), so the task name in the definition is the one the worker polls.
`to_json()` is Conductor's JSON with every default spelled out, exactly what the server
answers for it, so a definition round-trips unchanged.
"""

from legato.client.dsl.builder import WorkflowBuilder, workflow
from legato.client.dsl.operators import (
    do_while,
    dynamic,
    event,
    fork,
    http,
    human,
    inline,
    jq,
    noop,
    set_variable,
    sub_workflow,
    switch,
    task,
    terminate,
    wait,
)
from legato.client.dsl.steps import Step, input, ref, variable
from legato.client.dsl.task_def import TaskDef

__all__ = [
    "Step",
    "TaskDef",
    "WorkflowBuilder",
    "do_while",
    "dynamic",
    "event",
    "fork",
    "http",
    "human",
    "inline",
    "input",
    "jq",
    "noop",
    "ref",
    "set_variable",
    "sub_workflow",
    "switch",
    "task",
    "terminate",
    "variable",
    "wait",
    "workflow",
]
