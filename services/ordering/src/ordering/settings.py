from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class OrderingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KP_ORDERING_", extra="ignore")

    service_name: str = "ordering"
