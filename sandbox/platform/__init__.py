from sandbox.platform.core import (  # noqa: F401
    ENDPOINTS,
    FORCE_REFRESH_PER_DAY,
    INVALID_BODY,
    PLATFORM_SENDER,
    PLATFORM_TZ,
    DropConnection,
    Platform,
    WxError,
)
