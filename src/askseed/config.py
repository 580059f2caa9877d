"""Settings: defaults, then ASKSEED_* environment variables, then command-line flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from askseed.errors import UsageError


@dataclass(frozen=True)
class Settings:
    seeds: Path = Path("seeds")
    index: Path = Path("index")
    top_k: int = 3
    # Word pieces per chunk. The model's window is 256, but all-MiniLM-L6-v2 was trained on
    # 128-piece inputs and retrieves better with passages near that size.
    chunk_tokens: int = 128
    chunk_overlap: int = 1  # sentences shared by neighbouring chunks
    follow_links: bool = False

    def with_overrides(self, **values: object) -> Settings:
        """Apply flags: a value of None means the flag was not given."""
        given = {name: value for name, value in values.items() if value is not None}
        return replace(self, **given)


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    """askseed's per-user cache (the model export, the evaluation corpora): $ASKSEED_CACHE,
    else $XDG_CACHE_HOME/askseed, else ~/.cache/askseed."""
    environ = os.environ if environ is None else environ
    if environ.get("ASKSEED_CACHE"):
        return Path(environ["ASKSEED_CACHE"]).expanduser()
    base = environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "askseed"


def _coerce(kind: type | str, raw: str) -> object:
    kind_name = kind if isinstance(kind, str) else kind.__name__
    if kind_name == "Path":
        return Path(raw).expanduser()
    if kind_name == "int":
        return int(raw)
    if kind_name == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return raw


def load_settings(environ: dict[str, str] | None = None, **flags: object) -> Settings:
    """Defaults, overridden by ASKSEED_<NAME> variables, overridden by flags."""
    environ = os.environ if environ is None else environ
    from_env: dict[str, object] = {}
    for field in fields(Settings):
        raw = environ.get(f"ASKSEED_{field.name.upper()}")
        if raw:
            try:
                from_env[field.name] = _coerce(field.type, raw)
            except ValueError as error:
                message = f"ASKSEED_{field.name.upper()}={raw!r} is not valid: {error}"
                raise UsageError(message) from None
    settings = Settings().with_overrides(**from_env).with_overrides(**flags)
    return settings
