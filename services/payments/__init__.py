"""Taking money: the provider interface, its two providers, and what a settled payment does.

``factory.provider()`` is the configured provider; ``provider.py`` the interface.
"""
