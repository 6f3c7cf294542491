"""JSON log lines with a request id; tokens and passwords never reach a log.

Every request gets an id (a client's ``X-Request-ID`` when it is sane, else a
new one), echoed back in the response and stamped on every log record made
while the request runs. One access line per request is written when the
response is closed, so a stream's duration is the whole transfer. Redaction
is done by the formatter, on every record from every logger (werkzeug's own
access lines included): ``token=`` values, bearer tokens, anything shaped like
a JWT, and ``password`` fields.
"""

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from flask import g, has_request_context, request

from services import ip_hash

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REDACTED = "[redacted]"
# An unquoted value runs to the end of its field: a password may hold spaces.
PASSWORD_FIELD = re.compile(r"(password[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\n&,}\"']+)", re.I)
SECRETS = [
    (re.compile(r"((?:refresh_|access_|playback_)?token=)[^&\s\"']+", re.I), rf"\1{REDACTED}"),
    (re.compile(r"(bearer\s+)[^\s\"']+", re.I), rf"\1{REDACTED}"),
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), REDACTED),  # any JWT, wherever it sits
    (
        re.compile(r"(password[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,&}]+)", re.I),
        rf"\1{REDACTED}",
    ),
]
RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(text):
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


def scrub(value, key=""):
    """``value`` with every secret replaced, before it is serialized."""
    if "password" in key.lower() or key.lower() in ("authorization", "token"):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {name: scrub(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any extra fields."""

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,  # which gunicorn worker
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in RECORD_FIELDS})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(scrub(line), default=str)


class RequestIdFilter(logging.Filter):
    """Stamps the current request's id on records made while it runs."""

    def filter(self, record):
        if has_request_context() and "request_id" in g and not hasattr(record, "request_id"):
            record.request_id = g.request_id
        return True


def configure(level):
    """JSON lines on stderr for every logger (called once per process by create_app)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # pymongo's DEBUG command log prints every document sent and received (password hashes,
    # the HLS keys): LOG_LEVEL=DEBUG is for the app's own loggers.
    logging.getLogger("pymongo").setLevel(max(root.getEffectiveLevel(), logging.INFO))


access_log = logging.getLogger("access")


def start_request():
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def finish_request(response):
    if "request_id" not in g:  # refused by an earlier hook (a 429) before start_request
        start_request()
    response.headers["X-Request-ID"] = g.request_id
    line = {
        "request_id": g.request_id,
        "method": request.method,
        "path": request.path,
        "query": redact(request.query_string.decode("latin-1")) or None,
        "status": response.status_code,
        # The address's keyed hash (services.ip_hash), as the audit log has it: logs hold none.
        "ip_hash": ip_hash.of(request.remote_addr),
        "user_agent": request.user_agent.string[:200],
    }
    started = g.request_started
    response.call_on_close(lambda: _write_access_line(line, started))
    return response


def _write_access_line(line, started):
    line["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
    access_log.info("%s %s %s", line["method"], line["path"], line["status"], extra=line)


def init_app(app):
    app.before_request(start_request)
    app.after_request(finish_request)
