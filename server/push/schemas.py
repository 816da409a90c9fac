"""Response schemas of the web push API (the request bodies are the browser's own, in routes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from server.schemas import Strict


class VapidPublicKey(Strict):
    public_key: str = Field(description="the application server key for PushManager.subscribe")


class DevicePublic(Strict):
    """Codes the PWA words: the raw User-Agent header is never shown."""

    platform: Literal[
        "android", "iphone", "ipad", "harmonyos", "windows", "macos", "chromeos", "linux", "other"
    ]
    browser: Literal[
        "wechat",
        "qq",
        "uc",
        "huawei",
        "miui",
        "samsung",
        "edge",
        "opera",
        "firefox",
        "chrome",
        "safari",
        "other",
    ]


class SubscriptionPublic(Strict):
    id: int
    endpoint_hash: str
    push_service: str = Field(description="the push service's host")
    device: DevicePublic
    created_at: str
    last_success_at: str | None


class Subscriptions(Strict):
    items: list[SubscriptionPublic]
    channels: list[str] = Field(description="the notification kinds that may be pushed")


class SubscriptionCreated(Strict):
    id: int
    endpoint_hash: str
