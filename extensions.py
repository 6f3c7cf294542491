"""Extension objects, created here and bound to the app in create_app."""

from flask_cors import CORS
from flask_limiter import Limiter

from models.media_chunks import MediaChunks
from web.api import JsonErrorApi, ObjectIdConverter
from web.audit import rate_limit_key

api = JsonErrorApi()
# Once, before any app: each create_app() documents it (the app side is in create_app).
api.register_converter(ObjectIdConverter, ObjectIdConverter.openapi_schema)
cors = CORS()
# Storage, strategy and default limits come from app.config (see app.py). Keyed by the
# address's keyed hash: the limiter's storage (MongoDB) never holds a raw address.
limiter = Limiter(key_func=rate_limit_key)
# Media bytes: streams take turns at MongoDB, so API queries do not queue behind them.
media_chunks = MediaChunks()
