"""Workflow as code: `ConductorWorkflow` built from the SDK's task classes, registered or sent
inline, run on Legato; and its synchronous execute (`ConductorWorkflow.execute`,
`WorkflowExecutor.execute`, `execute_workflow_with_return_strategy`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import sdk_workers
from conductor.client.configuration.configuration import Configuration
from conductor.client.http.models import StartWorkflowRequest, TaskDef, WorkflowRun
from conductor.client.http.models.signal_response import SignalResponse
from conductor.client.http.rest import ApiException
from conductor.client.orkes.orkes_metadata_client import OrkesMetadataClient
from conductor.client.orkes.orkes_task_client import OrkesTaskClient
from conductor.client.orkes.orkes_workflow_client import OrkesWorkflowClient
from conductor.client.workflow.conductor_workflow import ConductorWorkflow
from conductor.client.workflow.executor.workflow_executor import WorkflowExecutor
from conductor.client.workflow.task.do_while_task import DoWhileTask, LoopTask
from conductor.client.workflow.task.dynamic_fork_task import DynamicForkTask
from conductor.client.workflow.task.dynamic_task import DynamicTask
from conductor.client.workflow.task.event_task import ConductorEventTask
from conductor.client.workflow.task.fork_task import ForkTask
from conductor.client.workflow.task.http_task import HttpInput, HttpMethod, HttpTask
from conductor.client.workflow.task.human_task import HumanTask
from conductor.client.workflow.task.inline import InlineTask
from conductor.client.workflow.task.javascript_task import JavascriptTask
from conductor.client.workflow.task.join_task import JoinTask
from conductor.client.workflow.task.json_jq_task import JsonJQTask
from conductor.client.workflow.task.kafka_publish import KafkaPublishTask
from conductor.client.workflow.task.kafka_publish_input import KafkaPublishInput
from conductor.client.workflow.task.set_variable_task import SetVariableTask
from conductor.client.workflow.task.simple_task import SimpleTask
from conductor.client.workflow.task.start_workflow_task import StartWorkflowTask
from conductor.client.workflow.task.sub_workflow_task import SubWorkflowTask
from conductor.client.workflow.task.switch_task import SwitchTask
from conductor.client.workflow.task.terminate_task import TerminateTask, WorkflowStatus
from conductor.client.workflow.task.wait_task import WaitForDurationTask, WaitTask, WaitUntilTask
from sdk_helpers import registered, task_by_ref, thread_runners, wait_for, wait_until


def new_workflow(executor: WorkflowExecutor, name: str) -> ConductorWorkflow:
    wf = ConductorWorkflow(executor=executor, name=name, version=1, description="from the SDK")
    return wf.owner_email("sdk@example.com").timeout_seconds(0)


def greet_def(metadata_client: OrkesMetadataClient) -> None:
    metadata_client.register_task_def(
        TaskDef(name=sdk_workers.GREET, retry_count=0, timeout_seconds=0)
    )


# ------------------------------------------------------------------------------ system tasks
def test_scripts_variables_switch_loops_and_forks(
    executor: WorkflowExecutor,
    workflow_client: OrkesWorkflowClient,
    names: Callable[[str], str],
) -> None:
    wf = new_workflow(executor, names("wf"))
    inline = InlineTask("inline", "(function(){ return $.a + 1; })()", {"a": "${workflow.input.a}"})
    js = JavascriptTask("js", "$.v * 10", {"v": inline.output("result")})
    jq = JsonJQTask("jq", "{total: (.xs | add), first: .xs[0]}")
    jq.input_parameter("xs", [1, 2, 3])
    setvar = SetVariableTask("setvar")
    setvar.input_parameter("js_result", js.output()).input_parameter("tag", "set")
    by_value = (
        SwitchTask("by_value", "${workflow.input.kind}")
        .switch_case("big", [InlineTask("big", "'BIG'")])
        .default_case([InlineTask("small", "'SMALL'")])
    )
    by_script = (
        SwitchTask("by_script", "$.a > 3 ? 'high' : 'low'", use_javascript=True)
        .switch_case("high", InlineTask("high", "'HIGH'"))
        .switch_case("low", InlineTask("low", "'LOW'"))
    )
    by_script.input_parameter("a", "${workflow.input.a}")
    loop = LoopTask("loop", 3, [InlineTask("body", "$.i * 2", {"i": "${loop.output.iteration}"})])
    do_while = DoWhileTask(
        "dw", "if ($.dw['iteration'] < $.limit) { true; } else { false; }", [InlineTask("dwb", "1")]
    )
    do_while.input_parameter("limit", 2)
    fork = ForkTask(
        "fork",
        [[InlineTask("left", "'L'")], [InlineTask("right1", "'R1'"), InlineTask("right2", "'R2'")]],
        join_on=["left", "right2"],
    )
    wf >> inline >> js >> jq >> setvar >> by_value >> by_script >> loop >> do_while >> fork
    # A list of lists: `>>` makes a FORK_JOIN, and a JOIN when another task follows it.
    wf >> [[InlineTask("a1", "'A'")], [InlineTask("b1", "'B'")]] >> InlineTask("end", "'E'")
    wf.output_parameters(
        {
            "inline": inline.output("result"),
            "js": js.output(),
            "jq": jq.output("result"),
            "vars": "${workflow.variables}",
            "small": "${small.output.result}",
            "high": "${high.output.result}",
            "loop": "${loop.output.iteration}",
            "body3": "${loop.output.3.body.result}",
            "dw": "${dw.output.iteration}",
            "join": "${fork_join.output}",
            "b1": "${b1.output.result}",
            "end": "${end.output.result}",
        }
    )
    wid = wf.start_workflow_with_input({"a": 4, "kind": "other"})
    run = wait_for(workflow_client, wid)
    assert run.status == "COMPLETED", run.reason_for_incompletion
    assert run.output == {
        "inline": 5,
        "js": 50,
        "jq": {"total": 6, "first": 1},
        "vars": {"js_result": 50, "tag": "set"},
        "small": "SMALL",
        "high": "HIGH",
        "loop": 3,
        "body3": 6,
        "dw": 2,
        "join": {"left": {"result": "L"}, "right2": {"result": "R2"}},
        "b1": "B",
        "end": "E",
    }
    types = {t.reference_task_name: t.task_type for t in run.tasks}
    assert types["by_value"] == "SWITCH"
    assert types["fork"] == "FORK"
    assert types["fork_join"] == "JOIN"
    assert "big" not in types
    assert "low" not in types


def test_terminate_task(
    executor: WorkflowExecutor, workflow_client: OrkesWorkflowClient, names: Callable[[str], str]
) -> None:
    wf = new_workflow(executor, names("wf"))
    check = SwitchTask("check", "${workflow.input.ok}").switch_case(
        "false",
        [TerminateTask("stop", WorkflowStatus.FAILED, "input was not ok")],
    )
    wf >> check >> InlineTask("after", "'reached'")
    wf.output_parameters({"after": "${after.output.result}"})
    wf.register(overwrite=True)

    failed = wait_for(
        workflow_client, workflow_client.start_workflow_by_name(wf.name, {"ok": False})
    )
    assert failed.status == "FAILED"
    assert failed.reason_for_incompletion == "input was not ok"
    assert task_by_ref(failed, "stop").status == "COMPLETED"
    assert "after" not in [t.reference_task_name for t in failed.tasks]
    passed = wait_for(
        workflow_client, workflow_client.start_workflow_by_name(wf.name, {"ok": True})
    )
    assert (passed.status, passed.output) == ("COMPLETED", {"after": "reached"})


def test_wait_and_human_tasks(
    executor: WorkflowExecutor,
    workflow_client: OrkesWorkflowClient,
    task_client: OrkesTaskClient,
    names: Callable[[str], str],
) -> None:
    wf = new_workflow(executor, names("wf"))
    wf >> WaitForDurationTask("pause", 1) >> WaitTask("short", wait_for_seconds=1)
    wf >> WaitUntilTask("until", "2020-01-01 00:00 GMT")
    wf >> HumanTask("approve", display_name="Approve the order")
    wf.output_parameters({"approved": "${approve.output.result.approved}"})
    wid = wf.start_workflow_with_input({})

    def at_human() -> object:
        run = workflow_client.get_workflow(wid)
        return run if any(t.reference_task_name == "approve" for t in run.tasks) else None

    run = wait_until(at_human, timeout=10, what="the HUMAN task")
    assert [(t.reference_task_name, t.status) for t in run.tasks] == [
        ("pause", "COMPLETED"),
        ("short", "COMPLETED"),
        ("until", "COMPLETED"),
        ("approve", "IN_PROGRESS"),
    ]
    pause = task_by_ref(run, "pause")
    assert pause.end_time - pause.start_time >= 900
    assert workflow_client.get_workflow(wid).status == "RUNNING"
    task_client.update_task_by_ref_name(wid, "approve", "COMPLETED", {"approved": True})
    run = wait_for(workflow_client, wid)
    assert (run.status, run.output) == ("COMPLETED", {"approved": True})


def test_http_task(
    executor: WorkflowExecutor,
    workflow_client: OrkesWorkflowClient,
    http_target: str,
    names: Callable[[str], str],
) -> None:
    wf = new_workflow(executor, names("wf"))
    get = HttpTask("get", {"uri": f"{http_target}/items/${{workflow.input.id}}"})
    post = HttpTask(
        "post",
        HttpInput(
            method=HttpMethod.POST,
            uri=f"{http_target}/orders",
            headers={"X-Test": "sdk"},  # type: ignore[dict-item]
            content_type="application/json",
            body={"id": "${workflow.input.id}", "seen": get.body("path")},
        ),
    )
    wf >> get >> post
    wf.output_parameters(
        {"status": post.status_code(), "echo": post.body(), "got": get.body("method")}
    )
    wid = wf.start_workflow_with_input({"id": 42})
    run = wait_for(workflow_client, wid)
    assert run.status == "COMPLETED", run.reason_for_incompletion
    assert run.output == {
        "status": 200,
        "got": "GET",
        "echo": {
            "method": "POST",
            "path": "/orders",
            "body": {"id": 42, "seen": "/items/42"},
            "header": "sdk",
        },
    }
    # A non-2xx answer fails the HTTP task (and, without retries, the workflow).
    bad = new_workflow(executor, names("bad"))
    bad >> HttpTask("boom", {"uri": f"{http_target}/status/500", "method": "GET"})
    failed = wait_for(workflow_client, bad.start_workflow_with_input({}), timeout=20)
    assert failed.status == "FAILED"
    assert task_by_ref(failed, "boom").status == "FAILED"
    assert task_by_ref(failed, "boom").output_data["response"]["statusCode"] == 500


def test_simple_dynamic_and_dynamic_fork(
    configuration: Configuration,
    executor: WorkflowExecutor,
    metadata_client: OrkesMetadataClient,
    workflow_client: OrkesWorkflowClient,
    names: Callable[[str], str],
) -> None:
    greet_def(metadata_client)
    wf = new_workflow(executor, names("wf"))
    simple = SimpleTask(sdk_workers.GREET, "simple").input_parameter(
        "name", "${workflow.input.who}"
    )
    # greet can also be used as a task factory: @worker_task functions take task_ref_name.
    factory = sdk_workers.greet(task_ref_name="factory", name="Factory")
    dynamic = DynamicTask("${workflow.input.task}", "dynamic")
    dynamic.input_parameter("name", "Dyn")
    fan_out = InlineTask(
        "fan_out",
        """(function(){
            var tasks = [], inputs = {};
            for (var i = 0; i < $.names.length; i++) {
                var ref = 'hello_' + i;
                tasks.push({name: $.task, taskReferenceName: ref, type: 'SIMPLE'});
                inputs[ref] = {name: $.names[i]};
            }
            return {tasks: tasks, inputs: inputs};
        })()""",
        {"names": "${workflow.input.names}", "task": sdk_workers.GREET},
    )
    fork = DynamicForkTask("dyn_fork", join_task=JoinTask("dyn_join"))
    fork.input_parameter("dynamicTasks", fan_out.output("result.tasks"))
    fork.input_parameter("dynamicTasksInputs", fan_out.output("result.inputs"))
    wf >> simple >> factory >> dynamic >> fan_out >> fork
    wf.output_parameters(
        {
            "simple": simple.output("greeting"),
            "factory": "${factory.output.greeting}",
            "dynamic": dynamic.output("greeting"),
            "joined": "${dyn_join.output}",
        }
    )
    wf.register(overwrite=True)
    with thread_runners(configuration, [registered(sdk_workers.GREET)]):
        wid = workflow_client.start_workflow_by_name(
            wf.name, {"who": "Ann", "task": sdk_workers.GREET, "names": ["X", "Y"]}
        )
        run = wait_for(workflow_client, wid)
    assert run.status == "COMPLETED", run.reason_for_incompletion
    assert run.output == {
        "simple": "Hello, Ann",
        "factory": "Hello, Factory",
        "dynamic": "Hello, Dyn",
        "joined": {"hello_0": {"greeting": "Hello, X"}, "hello_1": {"greeting": "Hello, Y"}},
    }
    assert task_by_ref(run, "dynamic").task_type == sdk_workers.GREET
    assert task_by_ref(run, "dyn_fork").task_type == "FORK"


def test_sub_workflow_and_start_workflow(
    executor: WorkflowExecutor, workflow_client: OrkesWorkflowClient, names: Callable[[str], str]
) -> None:
    child = new_workflow(executor, names("child"))
    child >> InlineTask("double", "$.n * 2", {"n": "${workflow.input.n}"})
    child.output_parameters({"doubled": "${double.output.result}"})
    child.register(overwrite=True)

    parent = new_workflow(executor, names("parent"))
    sub = SubWorkflowTask("sub", child.name, version=1).input_parameter("n", "${workflow.input.n}")
    started = StartWorkflowTask(
        "start_child", child.name, StartWorkflowRequest(input={"n": 100}), version=1
    )
    parent >> sub >> started
    parent.output_parameters(
        {"sub": sub.output("doubled"), "started": started.output("workflowId")}
    )
    wid = parent.start_workflow_with_input({"n": 5})
    run = wait_for(workflow_client, wid)
    assert run.status == "COMPLETED", run.reason_for_incompletion
    assert run.output["sub"] == 10
    sub_task = task_by_ref(run, "sub")
    assert sub_task.task_type == "SUB_WORKFLOW"
    assert sub_task.sub_workflow_id
    assert sub_task.output_data == {"doubled": 10, "subWorkflowId": sub_task.sub_workflow_id}
    child_run = workflow_client.get_workflow(sub_task.sub_workflow_id)
    assert (child_run.status, child_run.parent_workflow_id) == ("COMPLETED", wid)
    # START_WORKFLOW starts an independent workflow and answers its id at once.
    other = wait_for(workflow_client, run.output["started"])
    assert (other.status, other.output) == ("COMPLETED", {"doubled": 200})
    assert not other.parent_workflow_id


def test_inline_sub_workflow(
    executor: WorkflowExecutor, workflow_client: OrkesWorkflowClient, names: Callable[[str], str]
) -> None:
    child = new_workflow(executor, names("inline_child"))
    child >> InlineTask("triple", "$.n * 3", {"n": "${workflow.input.n}"})
    child.output_parameters({"tripled": "${triple.output.result}"})
    child.input_template({"n": "${workflow.input.n}"})
    parent = new_workflow(executor, names("parent"))
    # `>>` a ConductorWorkflow: a SUB_WORKFLOW carrying the child's definition inline. The
    # child's own `${...}` expressions are its business: the parent must not resolve them.
    parent >> child
    run = wait_for(workflow_client, parent.start_workflow_with_input({"n": 5}))
    assert run.status == "COMPLETED", run.reason_for_incompletion
    [sub] = run.tasks
    assert sub.task_type == "SUB_WORKFLOW"
    assert sub.output_data["tripled"] == 15
    child_run = workflow_client.get_workflow(sub.sub_workflow_id)
    assert (child_run.workflow_name, child_run.output) == (child.name, {"tripled": 15})


def test_event_task(
    executor: WorkflowExecutor, workflow_client: OrkesWorkflowClient, names: Callable[[str], str]
) -> None:
    wf = new_workflow(executor, names("wf"))
    event = ConductorEventTask("notify", names("event")).input_parameter(
        "order", "${workflow.input.order}"
    )
    wf >> event
    wid = wf.start_workflow_with_input({"order": "A-7"})
    run = wait_for(workflow_client, wid)
    assert run.status == "COMPLETED", run.reason_for_incompletion
    notify = task_by_ref(run, "notify")
    assert (notify.task_type, notify.status) == ("EVENT", "COMPLETED")
    assert notify.output_data["order"] == "A-7"
    assert notify.output_data["workflowInstanceId"] == wid
    assert notify.output_data["sink"].startswith("conductor:")


def test_unsupported_task_types_are_refused(
    executor: WorkflowExecutor, names: Callable[[str], str]
) -> None:
    wf = new_workflow(executor, names("wf"))
    wf >> KafkaPublishTask(
        "kafka", KafkaPublishInput(bootstrap_servers="localhost:9092", topic="t")
    )
    with pytest.raises(ApiException) as info:
        wf.register(overwrite=True)
    assert info.value.status == 400
    assert "KAFKA_PUBLISH" in info.value.body


# ------------------------------------------------------------------------------ sync execute
def test_execute_synchronously(
    executor: WorkflowExecutor, workflow_client: OrkesWorkflowClient, names: Callable[[str], str]
) -> None:
    wf = new_workflow(executor, names("wf"))
    double = InlineTask("double", "$.n * 2", {"n": "${workflow.input.n}"})
    wf >> double
    wf.output_parameters({"doubled": double.output("result")})

    # ConductorWorkflow.execute: the definition travels inline in the StartWorkflowRequest.
    run = wf.execute(workflow_input={"n": 21}, wait_for_seconds=10)
    assert isinstance(run, WorkflowRun)
    assert (run.status, run.output) == ("COMPLETED", {"doubled": 42})
    assert run.workflow_id
    assert [t.reference_task_name for t in run.tasks] == ["double"]
    # Calling the workflow executes it too.
    assert wf(n=2).output == {"doubled": 4}

    # WorkflowExecutor.execute on a registered definition, with a request id and correlation id.
    wf.register(overwrite=True)
    run = executor.execute(
        wf.name,
        version=1,
        workflow_input={"n": 5},
        request_id=str(uuid.uuid4()),
        correlation_id="sync-1",
    )
    assert (run.status, run.output, run.correlation_id) == ("COMPLETED", {"doubled": 10}, "sync-1")
    assert workflow_client.get_workflow(run.workflow_id).status == "COMPLETED"


def test_execute_until_a_task_and_return_strategies(
    executor: WorkflowExecutor, workflow_client: OrkesWorkflowClient, names: Callable[[str], str]
) -> None:
    wf = new_workflow(executor, names("wf"))
    wf >> InlineTask("first", "'one'") >> WaitTask("hold") >> InlineTask("last", "'two'")
    wf.register(overwrite=True)

    # The workflow blocks on a WAIT without a deadline: execute returns it RUNNING.
    run = executor.execute(wf.name, version=1, workflow_input={}, wait_for_seconds=5)
    assert run.status == "RUNNING"
    assert [(t.reference_task_name, t.status) for t in run.tasks] == [
        ("first", "COMPLETED"),
        ("hold", "IN_PROGRESS"),
    ]
    workflow_client.terminate_workflow(run.workflow_id, reason="done looking")

    request = StartWorkflowRequest(name=wf.name, version=1, input={})
    run = executor.execute_workflow(request, wait_until_task_ref="first", wait_for_seconds=5)
    assert run.status == "RUNNING"
    assert task_by_ref(run, "first").status == "COMPLETED"

    response = executor.execute_workflow_with_return_strategy(
        request, wait_for_seconds=5, return_strategy="BLOCKING_TASK"
    )
    assert isinstance(response, SignalResponse)
    assert response.response_type == "BLOCKING_TASK"
    assert (response.reference_task_name, response.task_type) == ("hold", "WAIT")
    response = executor.execute_workflow_with_return_strategy(request, wait_for_seconds=5)
    assert response.response_type == "TARGET_WORKFLOW"
    assert response.target_workflow_status == "RUNNING"
