"""The ceiling for ogmint's cheap paths: a bare Sanic app answering ``GET /`` with 40 KB.

Same Sanic, same worker count, same machine and wrk settings as the real server, no I/O, no
middleware: whatever ogmint serves per second is a fraction of this. ``GET /sized`` answers
``SIZED_BYTES`` bytes instead (e.g. a stored image's size, to compare ``/i/{slug}`` like for like).

``python bench/load/ceiling_app.py PORT [WORKERS [SIZED_BYTES]]``
"""

from __future__ import annotations

import sys

from sanic import HTTPResponse, Request, Sanic

BODY = b"o" * 40 * 1024
SIZED = b"o" * (int(sys.argv[3]) if len(sys.argv) > 3 else len(BODY))

app = Sanic("ceiling")


@app.get("/")
async def index(request: Request) -> HTTPResponse:
    return HTTPResponse(BODY, content_type="application/octet-stream")


@app.get("/sized")
async def sized(request: Request) -> HTTPResponse:
    return HTTPResponse(SIZED, content_type="application/octet-stream")


if __name__ == "__main__":
    port = int(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    app.run(host="127.0.0.1", port=port, workers=workers, access_log=False, motd=False)
