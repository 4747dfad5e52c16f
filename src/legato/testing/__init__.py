"""Test workflows in pytest: the real engine in process, local workers or mocked outputs, and
a fake clock that makes WAITs, retry delays and timeouts pass at once. No server, no sockets.

`WorkflowEnvironment` (async tests) and `SyncWorkflowEnvironment` (plain ones); mock
outcomes are described in `legato.testing.mocks`.
"""

from legato.testing.environment import Execution, WorkflowEnvironment
from legato.testing.mocks import NO_ANSWER
from legato.testing.sync import SyncWorkflowEnvironment

__all__ = ["NO_ANSWER", "Execution", "SyncWorkflowEnvironment", "WorkflowEnvironment"]
