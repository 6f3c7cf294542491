"""HTTP plumbing, no routes: what every route stands on, between the server and blueprints/.

The smorest Api and its error shape (api), the JSON error handlers (errors), the access
token check (guards), the request class that spools uploads to disk (request_class,
upload_spool), security headers, JSON logs (logs), the media answer with its Range
planning (media_response), and gunicorn's guarded worker (http_worker).
"""
