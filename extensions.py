"""Extension objects, created here and bound to the app in create_app."""

from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from blueprints.api import JsonErrorApi

api = JsonErrorApi()
cors = CORS()
# Storage, strategy and default limits come from app.config (see app.py).
limiter = Limiter(key_func=get_remote_address)
