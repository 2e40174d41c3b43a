"""``State``: the aggregates of one backend, built once by ``create_app`` (or the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from ogmint.state.accounts import AccountStore
from ogmint.state.atomic import AtomicSteps
from ogmint.state.base import Backend
from ogmint.state.brands import BrandStore
from ogmint.state.deliveries import DeliveryStore
from ogmint.state.keys import KeyStore
from ogmint.state.limits import LimitStore
from ogmint.state.renders import RenderStore
from ogmint.state.repeats import RepeatStore
from ogmint.state.signing_keys import SigningKeyStore
from ogmint.state.templates import TemplateStore
from ogmint.state.usage import UsageStore


@dataclass(frozen=True, slots=True)
class State:
    """Shared state, one small protocol per aggregate, all on one backend."""

    backend: Backend
    keys: KeyStore
    limits: LimitStore
    renders: RenderStore
    deliveries: DeliveryStore
    signing_keys: SigningKeyStore
    templates: TemplateStore
    brands: BrandStore
    atomic: AtomicSteps
    accounts: AccountStore
    usage: UsageStore
    repeats: RepeatStore

    async def open(self) -> None:
        await self.backend.open()

    async def close(self) -> None:
        await self.backend.close()

    async def ping(self) -> None:
        await self.backend.ping()
