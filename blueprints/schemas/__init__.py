"""marshmallow schemas: what comes in, what goes out, and the OpenAPI document."""
