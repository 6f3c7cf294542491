"""Extension objects, created here and bound to the app in create_app."""

from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from models.media_chunks import MediaChunks
from web.api import JsonErrorApi, ObjectIdConverter

api = JsonErrorApi()
# Once, before any app: each create_app() documents it (the app side is in create_app).
api.register_converter(ObjectIdConverter, ObjectIdConverter.openapi_schema)
cors = CORS()
# Storage, strategy and default limits come from app.config (see app.py).
limiter = Limiter(key_func=get_remote_address)
# Media bytes: streams take turns at MongoDB, so API queries do not queue behind them.
media_chunks = MediaChunks()
