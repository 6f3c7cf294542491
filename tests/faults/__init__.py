"""Faults against real servers (conftest.py starts them once for the package)."""
