"""Business rules: who may do what, tokens, the upload and media pipeline.

No request parsing and no responses: a service raises services.errors (each names its
HTTP status) and the web layer answers. urls.py reads the request's host only, when
PUBLIC_BASE_URL is not set.
"""
