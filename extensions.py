"""Extension objects, created here and bound to the app in create_app."""

from flask import current_app
from flask_cors import CORS
from flask_limiter import Limiter

from models.media_chunks import MediaChunks
from services.media_cache import MediaCacheComponent
from web.api import JsonErrorApi, ObjectIdConverter
from web.audit import rate_limit_key

api = JsonErrorApi()
# Once, before any app: each create_app() documents it (the app side is in create_app).
api.register_converter(ObjectIdConverter, ObjectIdConverter.openapi_schema)
cors = CORS()
# Storage and strategy come from app.config (see app.py). Keyed by the address's keyed hash:
# the limiter's storage (MongoDB) never holds a raw address. The default limit is read per
# request: flask-limiter keeps the first app's RATELIMIT_DEFAULT for every later app of the
# process (this object is global), which made tests depend on their order.
limiter = Limiter(
    key_func=rate_limit_key,
    default_limits=[lambda: current_app.config["RATELIMIT_DEFAULT"]],
)
# Media bytes: streams take turns at MongoDB, so API queries do not queue behind them.
media_chunks = MediaChunks()
# Verified copies of hot GridFS files on local disk (MEDIA_CACHE_MB; off: everything from GridFS).
media_cache = MediaCacheComponent()
