"""What several blueprints share that is no route of its own (blueprints/*.py each hold routes)."""
