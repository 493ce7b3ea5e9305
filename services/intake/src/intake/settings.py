from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KP_INTAKE_", extra="ignore")

    service_name: str = "intake"
    # KP_INTAKE_CLOCK_SECONDS: how often the clock announces rounds that opened or closed; 0 turns it off
    # (a replica that should not run it). Announcements are claimed in the database, so replicas may all run it.
    clock_seconds: float = Field(default=15.0, ge=0)
    # KP_INTAKE_INGEST_KEYS='{"nord": "<sha256 hex of nord's key>"}': other regions' systems authenticate with
    # a bearer key; only its hash is configured, so the settings never hold a usable key.
    ingest_keys: dict[str, str] = Field(default_factory=dict)
    # KP_INTAKE_PUBLIC_URL: where proposers reach intake's pages; the signed revise links in their e-mail start
    # with it (`kp run` sets it to its own address).
    public_url: str = "http://127.0.0.1:8000"
    # KP_INTAKE_REVISE_LINK_DAYS: how long a proposer may use the link to complete or reformulate a proposal.
    revise_link_days: int = Field(default=60, ge=1, le=365)

    @field_validator("ingest_keys")
    @classmethod
    def _hashes_only(cls, keys: dict[str, str]) -> dict[str, str]:
        for region, digest in keys.items():
            if not re.fullmatch(r"[a-z][a-z0-9-]{1,30}", region):
                raise ValueError(f"ingest key for {region!r}: not a region code")
            if not re.fullmatch(r"[0-9a-f]{64}", digest.lower()):
                raise ValueError(f"ingest key for {region!r}: give the SHA-256 hex digest of the key, not the key")
        return {region: digest.lower() for region, digest in keys.items()}
