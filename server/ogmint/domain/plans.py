"""Plans and their monthly render quotas: from the ``OGMINT_PLAN_QUOTAS`` setting only (SPEC §6)."""

from __future__ import annotations

from collections.abc import Iterable

from ogmint.errors import ValidationError


class Plans:
    """The plans a user can be on, each with its monthly quota."""

    def __init__(self, quotas: Iterable[tuple[str, int]]) -> None:
        self._quotas = dict(quotas)

    def __contains__(self, plan: object) -> bool:
        return plan in self._quotas

    def quota(self, plan: str) -> int:
        """The plan's monthly quota (0 for a plan the settings no longer name)."""
        return self._quotas.get(plan, 0)

    def names(self) -> list[str]:
        """Every plan, smallest quota first."""
        return sorted(self._quotas, key=self._quotas.__getitem__)

    def check(self, plan: str) -> None:
        """400 naming ``plan`` unless it is one of the plans."""
        if plan not in self._quotas:
            raise ValidationError.field("plan", f"one of {', '.join(self._quotas)}")
