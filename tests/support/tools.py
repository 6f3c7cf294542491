"""Tests that need a real tool (ffmpeg, chromium, nginx, gunicorn, SecantusDB): skip or fail."""

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_tool(available, name):
    """Skip on a laptop without ``name``; in CI a missing tool is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} is required in CI but is not installed")
    pytest.skip(f"{name} is not installed")
