"""Every feature's Socket.IO namespace module, imported so its SessionNamespace subclass registers."""

# Each feature adds one import line here, e.g.:
# from realtime import warroom  # noqa: F401
from realtime import feed, inbox, warroom  # noqa: F401
