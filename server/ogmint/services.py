"""What the front doors (API, dashboard) use: the domain services one worker runs, its metrics
and the settings they show. Built once by ``create_app``; no state store, storage or network
client in here — those are the domain's to use."""

from __future__ import annotations

from dataclasses import dataclass

from ogmint.domain.accounts import Accounts
from ogmint.domain.addresses import TrustedProxies
from ogmint.domain.brands import Brands
from ogmint.domain.deliveries import Deliveries
from ogmint.domain.gallery import Gallery
from ogmint.domain.health import Health
from ogmint.domain.keys import ApiKeys
from ogmint.domain.library import Library
from ogmint.domain.limits import Limits
from ogmint.domain.plans import Plans
from ogmint.domain.renders import Renders
from ogmint.domain.signing_keys import SigningKeys
from ogmint.domain.templates import TemplateCatalogue
from ogmint.domain.usage import Reports, Usage
from ogmint.domain.users import Users
from ogmint.metrics import Metrics
from ogmint.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    metrics: Metrics
    proxies: TrustedProxies
    renders: Renders
    library: Library
    gallery: Gallery
    templates: TemplateCatalogue
    brands: Brands
    keys: ApiKeys
    signing_keys: SigningKeys
    deliveries: Deliveries
    accounts: Accounts
    usage: Usage
    reports: Reports
    limits: Limits
    plans: Plans
    health: Health
    users: Users


@dataclass(frozen=True, slots=True)
class Operations:
    """The domain services the ``ogmint`` command uses."""

    settings: Settings
    keys: ApiKeys
    signing_keys: SigningKeys
    accounts: Accounts
    users: Users
    brands: Brands
