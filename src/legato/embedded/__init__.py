"""Legato's engine embedded in one Python process: workflows and local workers, no server.

`EmbeddedEngine` (asyncio) and `SyncEmbeddedEngine` (the same, blocking, for scripts).
Unlike `legato.worker` and `legato.client`, this imports the engine itself.
"""

from legato.embedded.engine import EmbeddedEngine
from legato.embedded.sync import SyncEmbeddedEngine
from legato.embedded.transport import LocalTaskTransport

__all__ = ["EmbeddedEngine", "LocalTaskTransport", "SyncEmbeddedEngine"]
