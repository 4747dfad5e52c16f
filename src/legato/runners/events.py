"""The event runner: leases messages of the built-in queue, has them processed, acknowledges.

Delivery is at least once. A claim leases a message for `LEASE_MS`; a message processed to the
end is deleted; one whose processing failed for a transient reason (or crashed) comes back
after a growing delay, at most `MAX_DELIVERIES` times. A node that dies mid-message loses
nothing: the lease expires and the message is delivered again (the processor recognises the
actions already done).
"""

from __future__ import annotations

import asyncio
import logging

from legato.events.processor import EventProcessor
from legato.service.container import Services
from legato.store.base import EventMessage

log = logging.getLogger("legato.events")

BATCH = 32
LEASE_MS = 60_000
MAX_DELIVERIES = 10
RETRY_DELAY_MS = 1_000  # doubled on every delivery, up to a minute
IDLE_WAIT_S = 1.0


class EventRunner:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.processor = EventProcessor(services)

    async def run(self) -> None:
        store = self.services.store
        me = asyncio.current_task()
        while True:
            try:
                handled = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the event runner failed; retrying")
                handled = 0
                await asyncio.sleep(IDLE_WAIT_S)
            if handled < BATCH:
                await store.wait_for_events(IDLE_WAIT_S)
            if me is not None and me.cancelling():
                # Python 3.11's wait_for returns normally when a cancellation arrives just as
                # the wait ends; never outlive a cancellation.
                raise asyncio.CancelledError

    async def run_once(self) -> int:
        """Claim and handle one batch; the number of messages claimed."""
        store = self.services.store
        messages = await store.claim_events(self.services.clock.now_ms(), BATCH, LEASE_MS)
        if not messages:
            return 0
        outcomes = await asyncio.gather(*(self._handle(m) for m in messages))
        done = [m.message_id for m, ok in zip(messages, outcomes, strict=True) if ok]
        await store.ack_events(done)
        return len(messages)

    async def _handle(self, message: EventMessage) -> bool:
        """True when the message is done with (processed, or given up on)."""
        try:
            if await self.processor.process(message):
                return True
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("processing event message %s failed", message.message_id)
        if message.deliveries >= MAX_DELIVERIES:
            log.error(
                "event message %s on %s dropped after %d deliveries",
                message.message_id,
                message.queue_name,
                message.deliveries,
            )
            return True
        delay = min(RETRY_DELAY_MS * 2 ** (message.deliveries - 1), LEASE_MS)
        await self.services.store.delay_event(
            message.message_id, self.services.clock.now_ms() + delay
        )
        return False
