"""MODQ_WEBHOOK_* settings: tenants' HTTPS callbacks (README "Webhooks"; moderation/alerts/delivery.py)."""

from __future__ import annotations

import ipaddress
import re

from pydantic import BaseModel, Field, field_validator, model_validator

_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


class WebhookSettings(BaseModel):
    webhook_allow_http_hosts: str | None = Field(None, description="comma-separated hosts a webhook URL may "
                                                 "name with plain http (development only); others need https")
    webhook_allow_hosts: str | None = Field(None, description="comma-separated hosts or addresses a webhook may "
                                            "reach although they are loopback, private or link-local")
    webhook_timeout_seconds: float = Field(5.0, gt=0, le=30, description="connect and read timeout of one attempt")
    webhook_retry_base_seconds: float = Field(5.0, ge=0, le=3600, description="wait before the second attempt; "
                                              "each later wait doubles")
    webhook_retry_max_seconds: float = Field(3600.0, ge=0, le=24 * 3600, description="longest wait between "
                                             "attempts")
    webhook_give_up_seconds: float = Field(24 * 3600.0, gt=0, le=7 * 24 * 3600, description="a delivery "
                                           "still failing this long after its event is given up")
    webhook_disable_after_seconds: float = Field(24 * 3600.0, gt=0, le=30 * 24 * 3600, description="an "
                                                 "endpoint failing every attempt this long is disabled, with an "
                                                 "operator alert")
    webhook_sweep_seconds: float = Field(10.0, gt=0, le=3600, description="how often beat fans out missed "
                                         "alerts and sends the deliveries that are due")
    webhook_subscriptions_seconds: float = Field(10.0, ge=0, le=3600, description="how long a process trusts "
                                                 "its cached list of which tenants have endpoints")

    @field_validator("webhook_allow_http_hosts", "webhook_allow_hosts")
    @classmethod
    def _check_hosts(cls, value: str | None) -> str | None:
        for host in _entries(value):
            if not _host_or_address(host):
                raise ValueError(f"{host!r} is not a host name or IP address")
        return value

    @model_validator(mode="after")
    def _check_webhook_retries(self) -> "WebhookSettings":
        if self.webhook_retry_base_seconds > self.webhook_retry_max_seconds:
            raise ValueError("MODQ_WEBHOOK_RETRY_BASE_SECONDS must not be greater than "
                             "MODQ_WEBHOOK_RETRY_MAX_SECONDS")
        return self

    @property
    def webhook_http_hosts(self) -> frozenset[str]:
        return frozenset(_entries(self.webhook_allow_http_hosts))

    @property
    def webhook_private_hosts(self) -> frozenset[str]:
        return frozenset(_entries(self.webhook_allow_hosts))


def _entries(value: str | None) -> list[str]:
    return [part.strip().lower().strip("[]") for part in (value or "").split(",") if part.strip()]


def _host_or_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOST.match(host))
