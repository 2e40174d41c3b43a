"""Plans (SPEC §6): each plan's monthly render quota and burst limit, from the settings only
(``OGMINT_PLAN_QUOTAS`` names the plans, ``OGMINT_PLAN_BURSTS`` sets bursts; 5/s otherwise)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ogmint.errors import ValidationError

#: Requests per second of a plan the operator gave no burst (SPEC §6: 5/s for every plan).
DEFAULT_BURST = 5.0


class Plans:
    """The plans a user can be on, each with its monthly quota and burst bucket."""

    def __init__(
        self, quotas: Iterable[tuple[str, int]], bursts: Iterable[tuple[str, float]] = ()
    ) -> None:
        self._quotas = dict(quotas)
        self._bursts = dict(bursts)

    def __contains__(self, plan: object) -> bool:
        return plan in self._quotas

    def quota(self, plan: str) -> int:
        """The plan's monthly quota (0 for a plan the settings no longer name)."""
        return self._quotas.get(plan, 0)

    def burst(self, plan: str) -> tuple[float, int]:
        """The plan's burst bucket: (tokens per second, capacity — at least one)."""
        rate = self._bursts.get(plan, DEFAULT_BURST)
        return rate, max(1, math.ceil(rate))

    def names(self) -> list[str]:
        """Every plan, smallest quota first."""
        return sorted(self._quotas, key=self._quotas.__getitem__)

    def check(self, plan: str) -> None:
        """400 naming ``plan`` unless it is one of the plans."""
        if plan not in self._quotas:
            raise ValidationError.field("plan", f"one of {', '.join(self._quotas)}")
