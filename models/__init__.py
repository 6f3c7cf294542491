"""Data access: one module per kind of document, no HTTP."""
