"""Shared state in Redis, for several app servers: one module per aggregate, every limit,
claim and save one Lua script (the ``*.lua`` files here) timed by Redis ``TIME``.

Key layout (``P`` is the prefix, ``ogmint:`` by default)::

    P{d:<subject>}:daily            hash w (UTC day number), n (uses)      expires at next midnight
    P{u:<user>}:quota               hash w (year*12 + month-1), n (renders) expires on the next 1st
    P{u:<user>}:bucket              hash tokens, updated (Redis time, s)    expires once full again
    P{i:<address>}:bucket           the same, /i/ requests of one client address (hotlink limit)
    P{u:<user>}:user                hash plan
    P{u:<user>}:keys                zset key_id scored by created_at (ms)
    P{u:<user>}:claim:<dedup_key>   string, PX ttl                          the in-flight render
    P{u:<user>}:render:<dedup_key>  hash RenderRecord                       the dedup index
    P{u:<owner>}:renders            zset "<created_at> <slug>", all score 0 the owner's renders
    Pslug:<slug>                    hash RenderRecord                       what /i/{slug} serves
    Pkey:<key_hash>                 hash key_id, user, revoked, created_at
    Pkeyid:<key_id>                 string key_hash
    Pkeys                           zset key_id scored by created_at (ms)
    P{u:<user>}:signing             zset kid scored by created_at (ms)     the active signing keys
    Psk:<kid>                       hash kid, user, secret, revoked, ms (created_at)
    Pwh:d:<id>                      hash Delivery + state, attempts, next_at (ms)
    Pwh:a:<id>                      list of attempts (JSON)
    Pwh:slug:<slug>                 list of delivery ids, oldest first
    Pwh:stream                      stream of due deliveries (field id), consumer group ``workers``
    Pwh:retry                       zset delivery id scored by due time (ms)
    P{u:<user>}:template:<id>       hash TemplateMeta + source              a custom template
    P{u:<user>}:templates           zset template id scored by created_at (ms)
    P{u:<user>}:brand:<id>          hash BrandMeta + logo (PNG, base64)      a brand
    P{u:<user>}:brands              zset brand id scored by created_at (ms)
    P{a:<user>}:account             hash email, password (hash), admin, ms (created)
    P{a:<user>}:link                string: digest of the user's current one-time link  PX ttl
    P{a:<user>}:sessions            set of the user's session digests (expired ones pruned)
    P{a:<user>}:usage:<YYYY-MM-DD>  hash v1, v2, dedup (renders that day)    expires after retention
    P{a:<user>}:recent              list of recent renders (JSON), newest first, trimmed
    Paccount-email:<email>          string user
    Paccounts                       zset user scored by created_at (ms)
    Plink:<digest>                  string user                                           PX ttl
    Psession:<digest>               hash user, csrf                                       PX ttl
    P{k:<kid>}:bucket               hash tokens, updated: a signing key's renders (misses)
    P{repeats}:entries              hash etag -> JSON (storage key, size, type, template)
    P{repeats}:order                zset etag scored by save time (ms): expiry and eviction
    P{repeats}:bytes                string: the entries' total size
    P{repeats}:template:<id>        set of etags rendered with a custom template

A user's (or subject's) keys share a ``{…}`` hash tag.
"""

from __future__ import annotations

from ogmint.state.redis.accounts import RedisAccounts
from ogmint.state.redis.atomic import RedisAtomicSteps
from ogmint.state.redis.brands import RedisBrands
from ogmint.state.redis.client import RedisClient
from ogmint.state.redis.deliveries import RedisDeliveries
from ogmint.state.redis.keys import RedisKeys
from ogmint.state.redis.limits import RedisLimits
from ogmint.state.redis.renders import RedisRenders
from ogmint.state.redis.repeats import RedisRepeats
from ogmint.state.redis.signing_keys import RedisSigningKeys
from ogmint.state.redis.templates import RedisTemplates
from ogmint.state.redis.usage import RedisUsage
from ogmint.state.store import State


def redis_state(
    url: str,
    *,
    timeout: float = 1.0,
    prefix: str = "ogmint:",
    max_connections: int = 64,
    replicas: int = 0,
) -> State:
    """The state on the Redis at ``url`` (a server or ``redis+sentinel://``, connected when
    opened); every call is bounded by ``timeout``, every write confirmed by ``replicas``."""
    client = RedisClient(
        url, timeout=timeout, prefix=prefix, max_connections=max_connections, replicas=replicas
    )
    renders = RedisRenders(client)
    deliveries = RedisDeliveries(client)
    usage = RedisUsage(client)
    return State(
        backend=client,
        keys=RedisKeys(client),
        limits=RedisLimits(client),
        renders=renders,
        deliveries=deliveries,
        signing_keys=RedisSigningKeys(client),
        templates=RedisTemplates(client),
        brands=RedisBrands(client),
        atomic=RedisAtomicSteps(client, renders, deliveries, usage),
        accounts=RedisAccounts(client),
        usage=usage,
        repeats=RedisRepeats(client),
    )
