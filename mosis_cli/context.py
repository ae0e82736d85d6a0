"""What every command receives: the parsed options, the output, the config and a client for the store."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .api import Credentials, StoreClient
from .config import Config
from .output import Output


@dataclass
class Context:
    options: object
    out: Output
    config: Config = field(default_factory=Config.load)
    _client: StoreClient | None = None

    @property
    def store(self) -> str:
        return self.config.store_url(getattr(self.options, "store", None))

    @property
    def store_entry(self) -> dict:
        return self.config.store(self.store)

    def credentials(self) -> Credentials:
        """``MOSIS_API_KEY`` (CI) wins over what ``mosis login`` saved for this store."""
        env_key = os.environ.get("MOSIS_API_KEY")
        if env_key:
            return Credentials(api_key=env_key)
        entry = self.store_entry
        if entry.get("api_key"):
            return Credentials(api_key=entry["api_key"])
        return Credentials(
            access_token=entry.get("access_token"),
            refresh_token=entry.get("refresh_token"),
            on_refresh=self._save_tokens,
        )

    def _save_tokens(self, access: str, refresh: str) -> None:
        entry = self.store_entry
        entry["access_token"], entry["refresh_token"] = access, refresh
        self.config.save()

    @property
    def client(self) -> StoreClient:
        if self._client is None:
            self._client = StoreClient(self.store, self.credentials())
        return self._client
