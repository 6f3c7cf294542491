"""Whether gunicorn's own access line of a response goes anywhere (http_worker)."""

import logging


def writes_access_lines(log):
    """gunicorn builds an access line's fields (``Logger.atoms``) whenever any logging config
    is given, and ours (gunicorn.conf.py) gives ``gunicorn.access`` no handler: the app writes
    the access lines (web/logs.py). Building the unused ones was ~4% of a short range's CPU
    (py-spy on the workers under bench/ranges.py), so the worker asks first. An INFO record
    with no handler is dropped by ``logging`` anyway (its last resort takes WARNING and up):
    a config that gives ``gunicorn.access`` a handler (or ``accesslog``) still gets every line.
    """
    access_log = getattr(log, "access_log", None)
    if access_log is None:  # another logger_class: it decides for itself
        return True
    return access_log.isEnabledFor(logging.INFO) and access_log.hasHandlers()
