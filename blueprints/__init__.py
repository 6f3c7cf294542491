"""HTTP routes only: parse with a schema, call one service, return a schema (schemas/)."""
