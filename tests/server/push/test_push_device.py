"""The device a push subscription is shown as: platform and browser from real User-Agent headers."""

from __future__ import annotations

import pytest

from server.push.device import device_of

CASES = [
    # Android phones: Chrome, and the browsers built on it that name themselves first
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "android",
        "chrome",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-S9180) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        "android",
        "samsung",
    ),
    (
        "Mozilla/5.0 (Linux; Android 12; M2012K11AC Build/SKQ1.211006.001; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.127 Mobile Safari/537.36 XiaoMi/MiuiBrowser/17.8.180",
        "android",
        "miui",
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 12; zh-cn; PCLM10 Build/SKQ1) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/98.0.4758.102 MQQBrowser/13.6 Mobile Safari/537.36",
        "android",
        "qq",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; V2219A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
        "Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47",
        "android",
        "wechat",
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0",
        "android",
        "firefox",
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
        "Mobile Safari/537.36 EdgA/131.0.0.0",
        "android",
        "edge",
    ),
    # HarmonyOS says Android too; it wins
    (
        "Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AL00; HMSCore 6.13.0.302) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/114.0.5735.196 HuaweiBrowser/15.0.4.312 Mobile Safari/537.36",
        "harmonyos",
        "huawei",
    ),
    # iPhone: Safari, an app on the home screen (no "Safari/"), Chrome and Edge on iOS
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        "iphone",
        "safari",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148",
        "iphone",
        "safari",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        "iphone",
        "chrome",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "EdgiOS/131.0.2903.68 Version/16.0 Mobile/15E148 Safari/604.1",
        "ipad",
        "edge",
    ),
    # Desktops
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "windows",
        "edge",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
        "windows",
        "opera",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
        "macos",
        "safari",
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "chromeos",
        "chrome",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        "linux",
        "chrome",
    ),
    # Nothing to go on
    ("curl/8.5.0", "other", "other"),
    ("", "other", "other"),
    (None, "other", "other"),
]


@pytest.mark.parametrize(("user_agent", "platform", "browser"), CASES)
def test_device_of(user_agent, platform, browser):
    assert device_of(user_agent) == {"platform": platform, "browser": browser}
