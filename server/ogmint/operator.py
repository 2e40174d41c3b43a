"""What the server and the CLI tell the operator (SPEC §9): where the state lives, whether it
exists yet, and what to do first."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ogmint.settings import Settings

FIRST_ADMIN_ARGS = "users create admin --email you@example.com --admin"


def state_location(settings: Settings) -> str:
    """The state store in words, e.g. ``Redis redis://redis:6379/0`` (never a password)."""
    if settings.redis_url:
        # By hand, not urlsplit: a Sentinel URL lists several host:port pairs.
        scheme, _, rest = settings.redis_url.partition("://")
        netloc, slash, path = rest.partition("/")
        hosts = netloc.rpartition("@")[2]  # never the credentials
        shown = f"{scheme}://{hosts}{slash}{path.partition('?')[0]}"
        prefix = f" (prefix {settings.redis_prefix!r})" if settings.redis_prefix else ""
        return f"Redis {shown}{prefix}"
    return f"data directory {settings.data_dir.resolve()}"


def missing_state(settings: Settings) -> str | None:
    """Why the embedded state cannot be used as it is: its database does not exist (opening it
    would create a new, empty one that no server reads); ``None`` when it exists or Redis is
    configured."""
    if settings.redis_url or settings.database_path.is_file():
        return None
    return (
        f"no ogmint state in {settings.data_dir.resolve()} (no {settings.database_path.name}): "
        "run this where the server runs, set OGMINT_DATA_DIR (or OGMINT_REDIS_URL) as the "
        "server has it, or pass --init to create a new, empty one there"
    )


def health_url(settings: Settings, *, ready: bool = False) -> str:
    """Where this machine reaches the server's /healthz (or /readyz): a wildcard bind address
    is asked on loopback."""
    wildcard = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}  # noqa: S104
    host = wildcard.get(settings.host, settings.host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/{'readyz' if ready else 'healthz'}"


def cli_command() -> str:
    """How to invoke the ``ogmint`` command beside this Python: on the PATH, the plain name;
    else its path (relative when under the working directory, as ``.venv/bin/ogmint``)."""
    script = Path(sys.executable).parent / "ogmint"
    if not script.exists():
        return f"{sys.executable} -m ogmint.cli"
    found = shutil.which("ogmint")
    if found and Path(found).resolve() == script.resolve():
        return "ogmint"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def startup_text(settings: Settings, *, has_users: bool | None) -> str:
    """The lines printed when the server starts: its URL, the dashboard's and, while there is
    no user yet (``has_users`` False), the one command that creates the first admin."""
    base = settings.base_url
    lines = [f"ogmint listening on {base}", f"dashboard: {base}/dashboard"]
    if has_users is False:
        command = f"{cli_command()} {FIRST_ADMIN_ARGS}"
        if os.getpid() == 1:  # the entry point of a container: the command runs inside it
            command = f"docker exec -it <container> ogmint {FIRST_ADMIN_ARGS}"
        lines += [
            "no users yet; create the first admin (it prints a link to set the password):",
            f"  {command}",
        ]
    return "\n".join(lines)
