"""Plans: what the settings name, smallest quota first; anything else is refused."""

from __future__ import annotations

import pytest

from ogmint.domain.plans import Plans
from ogmint.errors import ValidationError


def test_plans_are_the_settings() -> None:
    plans = Plans((("pro", 10), ("free", 1), ("team", 5)))
    assert plans.names() == ["free", "team", "pro"]
    assert "team" in plans and "agency" not in plans
    assert plans.quota("team") == 5 and plans.quota("gone") == 0
    plans.check("free")
    with pytest.raises(ValidationError) as refused:
        plans.check("agency")
    assert refused.value.details[0].field == "plan" and "pro, free, team" in refused.value.message
