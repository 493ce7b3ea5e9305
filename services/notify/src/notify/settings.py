from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KP_NOTIFY_", extra="ignore")

    service_name: str = "notify"
    smtp_host: str = Field(default="", description="Send with SMTP when set; otherwise write .eml files to mail_dir")
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    # Well below the consumer's ack_wait (30 s): a slow server must not get the message handled twice at once.
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "kunnskapsportalen@localhost"
    mail_dir: Path | None = Field(default=None, description="Where the file transport writes; var_dir/mail if unset")

    @model_validator(mode="after")
    def _default_mail_dir(self) -> NotifySettings:
        if self.mail_dir is None:
            self.mail_dir = self.common.var_dir / "mail"
        return self
