"""Support code the tests share: helpers, builders and live servers, never tests or fixtures.

Fixtures live in ``tests/conftest.py`` (and ``tests/players/conftest.py``); a test
module takes them as arguments and imports plain helpers from here.
"""
