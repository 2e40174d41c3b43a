"""A render's webhook deliveries (SPEC §4): listed with every attempt, and sent again.

The one ownership rule: a render belongs to the user whose key made it (renders are recorded
per API key), a delivery to the user who asked for it. For anyone else both do not exist
(404), so slugs and delivery ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Callable

from ogmint.domain.keys import ApiKeys
from ogmint.domain.limits import Limits
from ogmint.errors import NotFoundError
from ogmint.state.deliveries import DeliveryStatus as DeliveryStatus
from ogmint.state.deliveries import DeliveryStore
from ogmint.state.renders import RenderStore


class Deliveries:
    """Users' webhook deliveries."""

    def __init__(
        self,
        deliveries: DeliveryStore,
        renders: RenderStore,
        keys: ApiKeys,
        limits: Limits,
        wake: Callable[[], None],
    ) -> None:
        self._deliveries = deliveries
        self._renders = renders
        self._keys = keys
        self._limits = limits
        self._wake = wake

    async def owns_render(self, user: str, slug: str) -> bool:
        """Whether ``slug`` is a render made with one of ``user``'s keys."""
        record = await self._renders.get_render(slug)
        return record is not None and record.user in await self._keys.key_ids(user)

    async def _owned(self, user: str, slug: str) -> None:
        if not await self.owns_render(user, slug):
            raise NotFoundError("No such render")

    async def listed(self, user: str, slug: str) -> list[DeliveryStatus]:
        """The user's deliveries of a render (none for anyone else's)."""
        found = await self._deliveries.list_deliveries(slug)
        return [s for s in found if s.delivery.owner == user]

    async def of_render(self, user: str, slug: str) -> list[DeliveryStatus]:
        """The deliveries of one of the user's renders (404 for anyone else's render)."""
        await self._owned(user, slug)
        return await self.listed(user, slug)

    async def redeliver(self, user: str, slug: str, delivery_id: str) -> None:
        """Sends one of the user's deliveries of one of the user's renders again, from a fresh
        retry schedule (404 for anyone else's), within the user's redelivery allowance: each
        one is an outbound request (429 past it)."""
        await self._owned(user, slug)
        found = await self._deliveries.get_delivery(delivery_id)
        if found is None or found.delivery.slug != slug or found.delivery.owner != user:
            raise NotFoundError("No such delivery")
        await self._limits.take_redelivery(user)
        if not await self._deliveries.redeliver(delivery_id):
            raise NotFoundError("No such delivery")
        self._wake()
