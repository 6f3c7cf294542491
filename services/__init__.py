"""Business rules: who may do what, tokens, the media pipeline. No HTTP here."""
