"""Where the SDK finds its server: environment > active profile > defaults.

The same settings and files as the `taskwire` CLI: `TASKWIRE_API_URL`, `TASKWIRE_API_KEY`,
and `$TASKWIRE_HOME/profiles.toml` (default `~/.taskwire/profiles.toml`)::

    active = "default"

    [profiles.default]
    TASKWIRE_API_URL = "http://127.0.0.1:7070"
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_API_URL = "http://127.0.0.1:7070"


@dataclass(frozen=True)
class Settings:
    """Resolved connection settings.

    Attributes:
        api_url: The server's URL, e.g. ``http://127.0.0.1:7070``; several, comma-separated,
            for servers sharing one database (calls go to the first; a worker moves to the
            next each time it reconnects).
        api_key: Sent as ``authorization: Bearer <key>`` when set.
    """

    api_url: str = DEFAULT_API_URL
    api_key: str | None = None

    @property
    def api_urls(self) -> list[str]:
        """Every server address given, in order."""
        return [url.strip() for url in self.api_url.split(",") if url.strip()] or [DEFAULT_API_URL]

    def for_server(self, index: int) -> Settings:
        """These settings with only the ``index``-th address (counted round the list)."""
        urls = self.api_urls
        return replace(self, api_url=urls[index % len(urls)])

    @property
    def grpc_target(self) -> str:
        """The ``host:port`` that grpc dials (grpc takes no scheme): the first address's."""
        return grpc_target(self.api_urls[0])

    @property
    def secure(self) -> bool:
        """True for ``https://`` URLs, which need a TLS channel."""
        return urlsplit(self.api_urls[0]).scheme == "https"


def grpc_target(api_url: str) -> str:
    """Turns ``http://host:port/anything`` into ``host:port``.

    Raises:
        ValueError: the URL has a scheme other than http or https, or no host.
    """
    url = api_url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"TASKWIRE_API_URL must be an http:// or https:// URL, got {api_url!r}")
    if not parts.hostname:
        raise ValueError(f"TASKWIRE_API_URL has no host: {api_url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}"


def taskwire_home(environ: Mapping[str, str] | None = None) -> Path:
    """The directory holding profiles.toml: ``$TASKWIRE_HOME`` or ``~/.taskwire``."""
    env = os.environ if environ is None else environ
    home = env.get("TASKWIRE_HOME")
    return Path(home).expanduser() if home else Path.home() / ".taskwire"


def read_profile(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings of the active profile (``TASKWIRE_PROFILE`` overrides ``active``).

    Returns an empty dict when there is no profiles.toml.

    Raises:
        ValueError: profiles.toml is not valid TOML.
    """
    env = os.environ if environ is None else environ
    path = taskwire_home(env) / "profiles.toml"
    try:
        with path.open("rb") as f:
            document: dict[str, Any] = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from exc
    name = env.get("TASKWIRE_PROFILE") or document.get("active") or "default"
    profile = document.get("profiles", {}).get(name, {})
    return {key: str(value) for key, value in profile.items()}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Resolves settings: environment variables win over the active profile.

    Args:
        environ: Variables to read instead of ``os.environ`` (for tests).
    """
    env = os.environ if environ is None else environ
    profile = read_profile(env)

    def pick(key: str) -> str | None:
        return env.get(key) or profile.get(key) or None

    return Settings(
        api_url=pick("TASKWIRE_API_URL") or DEFAULT_API_URL,
        api_key=pick("TASKWIRE_API_KEY"),
    )
