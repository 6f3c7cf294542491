"""Development and test tooling (not imported by the application)."""
