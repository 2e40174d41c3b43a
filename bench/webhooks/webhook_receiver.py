"""The webhook benchmark's receiver: an aiohttp HTTPS server answering every POST with 204.

Run as its own process (``webhooks_bench.py`` starts it through ``harness.Processes``) so that
its TLS and HTTP work neither holds the benchmark client's GIL nor hides in its CPU time.
It records the arrival time (``time.monotonic()``, the same clock in every process) of each
POST by path, and answers ``GET /counts`` and ``GET /arrivals`` on a second, plain-HTTP port.

``python bench/webhooks/webhook_receiver.py HTTPS_PORT STATS_PORT CERT_AND_KEY.pem``
"""

from __future__ import annotations

import asyncio
import ssl
import sys
import time

from aiohttp import web


async def serve(port: int, stats_port: int, pem: str) -> None:
    arrivals: dict[str, list[float]] = {}

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        arrivals.setdefault(request.path, []).append(time.monotonic())
        return web.Response(status=204)

    async def counts(_: web.Request) -> web.Response:
        return web.json_response({path: len(times) for path, times in arrivals.items()})

    async def all_arrivals(_: web.Request) -> web.Response:
        return web.json_response(arrivals)

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(pem)
    hooks = web.Application()
    hooks.router.add_post("/{tail:.*}", receive)
    stats = web.Application()
    stats.router.add_get("/counts", counts)
    stats.router.add_get("/arrivals", all_arrivals)
    runners = [web.AppRunner(hooks, access_log=None), web.AppRunner(stats, access_log=None)]
    for runner in runners:
        await runner.setup()
    await web.TCPSite(runners[0], "127.0.0.1", port, ssl_context=tls).start()
    await web.TCPSite(runners[1], "127.0.0.1", stats_port).start()
    await asyncio.Event().wait()  # until stopped (SIGTERM)


def main() -> int:
    port, stats_port, pem = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    asyncio.run(serve(port, stats_port, pem))
    return 0


if __name__ == "__main__":
    sys.exit(main())
