"""Business rules: who may do what (access), accounts and tokens, playback; the upload and
media pipeline is the media/ package.

No request parsing and no responses: a service returns data, or raises a
services.errors.ServiceError that names the HTTP status and code the web layer answers with.
urls.py alone reads the request: the host a client called, when PUBLIC_BASE_URL is not set.
"""
