"""Settings base classes: dev defaults that work out of the box, production that refuses placeholders."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class CommonSettings(BaseSettings):
    """What every service shares, read from KP_* variables."""

    model_config = SettingsConfigDict(env_prefix="KP_", extra="ignore")

    # Production unless told otherwise: the dev login and the placeholder secret must be asked for
    # explicitly (`kp run` and the tests do), never reached by forgetting a variable.
    env: Literal["dev", "test", "prod"] = "prod"
    # One URL, or a cluster's servers comma-separated: nats://nats-0:4222,nats://nats-1:4222,nats://nats-2:4222
    nats_url: str = "nats://127.0.0.1:4222"
    var_dir: Path = Path("var")
    auth_secret: str = DEV_SECRET
    auth_token_ttl_seconds: int = 8 * 3600
    # The outbox relay's longest pause between attempts while the broker is away (it starts at 0.1 s and
    # doubles; a reconnect ends it at once). A JetStream leader election takes seconds: a long back-off
    # would add up to its length to every failover.
    relay_max_backoff_seconds: float = Field(default=2.0, gt=0)
    # How long the relay waits for a batch's PubAcks after its last send; rows without one stay pending
    # and are sent again with the same Nats-Msg-Id.
    relay_publish_timeout_seconds: float = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> CommonSettings:
        if self.env == "prod" and (self.auth_secret == DEV_SECRET or len(self.auth_secret) < 32):
            raise ValueError("KP_AUTH_SECRET must be set to a real secret of at least 32 characters in prod")
        return self


class ServiceSettings(BaseSettings):
    """One service's settings: its own database plus the common part."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    database_url: str = ""
    common: CommonSettings = Field(default_factory=CommonSettings)
    # Rows in flight at once per relay: enough to keep the broker's disk busy, few enough that a batch's
    # PubAcks arrive well within the publish timeout.
    relay_batch_size: int = Field(default=512, gt=0)
    relay_poll_seconds: float = 0.5

    @model_validator(mode="after")
    def _default_sqlite_file(self) -> ServiceSettings:
        if not self.database_url:
            path = (self.common.var_dir / f"{self.service_name}.db").resolve()
            self.database_url = f"sqlite+aiosqlite:///{path}"
        return self
