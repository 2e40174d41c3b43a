"""Plans (SPEC §6): each plan's monthly quota and burst limit, as the operator configured them.

The SPEC's four plans are the defaults; an operator adds plans by naming them in
``OGMINT_PLAN_QUOTAS`` and sets bursts with ``OGMINT_PLAN_BURSTS``. Every place that names a
plan (the CLI, the admin page, the limits) asks this one object.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

#: The plan of a user created without one (SPEC §6); it must always exist.
DEFAULT_PLAN = "free"
#: Requests per second of a plan the operator gave no burst (SPEC §6: 5/s for every plan).
DEFAULT_BURST = 5.0


@dataclass(frozen=True, slots=True)
class Burst:
    """A token bucket: ``rate`` tokens per second, holding ``capacity`` (at least one)."""

    rate: float
    capacity: int

    @classmethod
    def per_second(cls, rate: float) -> Burst:
        return cls(rate, max(1, math.ceil(rate)))


@dataclass(frozen=True, slots=True)
class Plans:
    """The configured plans: quotas by name, and bursts (default 5/s)."""

    quotas: Mapping[str, int]
    bursts: Mapping[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Every plan, smallest quota first (as the admin page lists them)."""
        return sorted(self.quotas, key=lambda p: (self.quotas[p], p))

    def __contains__(self, plan: object) -> bool:
        return plan in self.quotas

    def quota(self, plan: str) -> int:
        """Monthly renders of ``plan`` (0 for a plan no longer configured: nothing renders)."""
        return self.quotas.get(plan, 0)

    def burst(self, plan: str) -> Burst:
        """The burst bucket of ``plan``."""
        return Burst.per_second(self.bursts.get(plan, DEFAULT_BURST))

    def check(self, plan: str) -> str | None:
        """Why ``plan`` cannot be given to a user, or None when it can."""
        if plan in self.quotas:
            return None
        return f"unknown plan {plan!r}; plans: {', '.join(self.names)}"
