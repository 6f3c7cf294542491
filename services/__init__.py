"""Business rules: who may do what (access), accounts and tokens, playback, the upload and
media pipeline. A service builds no response: it returns data, or raises a
services.errors.ServiceError that carries the status and code the HTTP layer answers with.
(services.urls alone reads the request: the host a client called, for absolute URLs.)"""
