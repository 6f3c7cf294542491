"""Business rules: who may do what (access), the video library, accounts, tokens, playback.

The upload and media pipeline, from accepting a file to ``ready``, is the media/ package.

No request parsing and no responses: a service returns data, or raises a
services.errors.ServiceError that names the HTTP status and code the web layer answers with.
urls.py alone reads the request: the host a client called, when PUBLIC_BASE_URL is not set.
"""
