"""What a push subscription's device is, from the browser's User-Agent header: a platform and a
browser as codes (the PWA words them in zh-CN or en). The device list shows these, never the raw
header, which identifies a browser build far more closely than anyone needs to recognise a phone."""

from __future__ import annotations

from typing import TypedDict


class Device(TypedDict):
    platform: str  # android, iphone, ipad, harmonyos, windows, macos, chromeos, linux, other
    browser: str  # wechat, qq, uc, huawei, miui, samsung, edge, opera, firefox, chrome, safari, other


# First match wins: HarmonyOS phones also say "Android", iPhones say "like Mac OS X".
_PLATFORMS = (
    ("harmonyos", ("HarmonyOS", "OpenHarmony")),
    ("iphone", ("iPhone", "iPod")),
    ("ipad", ("iPad",)),
    ("android", ("Android",)),
    ("windows", ("Windows",)),
    ("chromeos", ("CrOS",)),
    ("macos", ("Macintosh", "Mac OS X")),
    ("linux", ("Linux", "X11")),
)

# Browsers built on Chrome or Safari name themselves before the engine they carry: theirs first.
_BROWSERS = (
    ("wechat", ("MicroMessenger",)),
    ("qq", ("MQQBrowser", "QQBrowser")),
    ("uc", ("UCBrowser", "UCWEB")),
    ("huawei", ("HuaweiBrowser", "HUAWEIBrowser")),
    ("miui", ("MiuiBrowser",)),
    ("samsung", ("SamsungBrowser",)),
    ("edge", ("Edg/", "EdgA/", "EdgiOS/", "Edge/")),
    ("opera", ("OPR/", "OPiOS/", "Opera")),
    ("firefox", ("Firefox/", "FxiOS/")),
    ("chrome", ("CriOS/", "Chrome/", "Chromium/")),
    ("safari", ("Safari/",)),
)


def _first(user_agent: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    for code, marks in table:
        if any(mark in user_agent for mark in marks):
            return code
    return "other"


def device_of(user_agent: str | None) -> Device:
    ua = user_agent or ""
    platform = _first(ua, _PLATFORMS)
    browser = _first(ua, _BROWSERS)
    if browser == "other" and platform in ("iphone", "ipad") and "AppleWebKit" in ua:
        # An app added to the home screen (where iOS allows web push) leaves "Safari/" out.
        browser = "safari"
    return {"platform": platform, "browser": browser}
