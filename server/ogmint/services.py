"""The implementations one worker uses, chosen once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from ogmint.accounts import Accounts
from ogmint.api.caller import KeyDirectory, TrustedProxies
from ogmint.api.signed import SigningKeyDirectory
from ogmint.dashboard.pages import Pages
from ogmint.metrics import Metrics
from ogmint.net import AddressPolicy, GuardedClient
from ogmint.rendering.native import Renderer
from ogmint.rendering.pipeline import RenderPipeline
from ogmint.renders import RenderService
from ogmint.repeats import RepeatCache
from ogmint.settings import Settings
from ogmint.state.store import State
from ogmint.storage.base import BlobStorage
from ogmint.templates import CustomTemplates
from ogmint.usage import Usage
from ogmint.webhooks.worker import DeliveryWorker


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    renderer: Renderer
    pipeline: RenderPipeline
    state: State
    storage: BlobStorage
    renders: RenderService
    repeats: RepeatCache
    templates: CustomTemplates
    client: GuardedClient
    proxies: TrustedProxies
    keys: KeyDirectory
    signing_keys: SigningKeyDirectory
    outbound: AddressPolicy
    webhooks: DeliveryWorker
    metrics: Metrics
    accounts: Accounts
    usage: Usage
    pages: Pages
