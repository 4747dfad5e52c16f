"""The timer loop: turns due timers (timeouts, WAIT deadlines) into Tick facts."""

from __future__ import annotations

import asyncio
import logging

from legato.engine.facts import Tick
from legato.errors import LegatoError, NotFoundError
from legato.service.container import Services

log = logging.getLogger("legato.timers")

BATCH = 200
# A claimed workflow's timer moves this far ahead: if its node dies (or its database write
# fails) before the tick commits, any live node's loop takes it over after this long (plus one
# interval). A tick that outlives its lease may run twice; revision checks make that harmless.
LEASE_MS = 10_000


class TimerLoop:
    def __init__(self, services: Services, interval_ms: int) -> None:
        self.services = services
        self.interval_s = interval_ms / 1000

    async def run(self) -> None:
        while True:
            try:
                due = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer loop failed; retrying")
                due = 0
            if due < BATCH:
                await asyncio.sleep(self.interval_s)

    async def run_once(self) -> int:
        now = self.services.clock.now_ms()
        ids = await self.services.store.claim_due_workflows(now, BATCH, LEASE_MS)
        if ids:
            await asyncio.gather(*(self._tick(workflow_id) for workflow_id in ids))
        return len(ids)

    async def _tick(self, workflow_id: str) -> None:
        try:
            await self.services.workflows.act(workflow_id, Tick())
        except NotFoundError:
            pass
        except LegatoError:
            log.exception("timer of workflow %s failed; it will fire again", workflow_id)
