"""The HLS ladder's settings (docs/videos.md#the-hls-ladder): config.py's, kept apart to keep
it short. The defaults are those of services/media/ladder_plan.py (a test holds them equal:
config, the lowest layer, imports nothing from services)."""

from config_env import ConfigError, env_int, env_str

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
# (name, lowest, highest) of the integer settings.
BOUNDS = (
    ("HLS_MAX_RENDITIONS", 0, 5),  # 0: no ladder, progressive playback only
    ("HLS_SEGMENT_SECONDS", 2, 10),
    ("HLS_CRF", 0, 51),
    ("HLS_AUDIO_BIT_RATE", 32_000, 320_000),
    ("HLS_X264_THREADS", 1, 16),
    ("HLS_JOB_MEMORY_MB", 512, 65_536),
    ("HLS_SECONDS_PER_MEDIA_SECOND", 1, 100),
)


def hls_settings():
    """The HLS_* settings from the environment."""
    return {
        # Renditions of the ladder, the biggest ones at or below the source's short side.
        "HLS_MAX_RENDITIONS": env_int("HLS_MAX_RENDITIONS", 3),
        "HLS_SEGMENT_SECONDS": env_int("HLS_SEGMENT_SECONDS", 6),
        # libx264's preset below 1080 lines, and at 1080 and above (the big rung costs most).
        "HLS_X264_PRESET": env_str("HLS_X264_PRESET", "veryfast"),
        "HLS_X264_PRESET_HIGH": env_str("HLS_X264_PRESET_HIGH", "ultrafast"),
        "HLS_CRF": env_int("HLS_CRF", 23),
        "HLS_AUDIO_BIT_RATE": env_int("HLS_AUDIO_BIT_RATE", 128_000),
        "HLS_X264_THREADS": env_int("HLS_X264_THREADS", 4),  # per rung
        # The ladder child's address space: three x264 encoders need more than one transcode.
        "HLS_JOB_MEMORY_MB": env_int("HLS_JOB_MEMORY_MB", 1536),
        # Its wall clock: this many seconds a second of video, MEDIA_JOB_SECONDS at least.
        "HLS_SECONDS_PER_MEDIA_SECOND": env_int("HLS_SECONDS_PER_MEDIA_SECOND", 3),
    }


def validate_hls(settings):
    """ConfigError when an HLS_* setting of ``settings`` (the config object) is out of range."""
    for name, low, high in BOUNDS:
        value = getattr(settings, name)
        if not low <= value <= high:
            raise ConfigError(f"{name} must be from {low} to {high}, got {value}")
    for name in ("HLS_X264_PRESET", "HLS_X264_PRESET_HIGH"):
        if getattr(settings, name) not in X264_PRESETS:
            raise ConfigError(f"{name} must be one of {list(X264_PRESETS)}")
