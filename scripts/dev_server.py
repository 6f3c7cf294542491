"""``make run``: the embedded database (unless MONGODB_URI is set), then the API.

Starts SecantusDB with its data under ./data (git-ignored, so a second run
finds the first one's data), creates the admin and the demo data, and serves
the API on http://127.0.0.1:5000 until Ctrl-C, which stops both.
"""

import logging
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.embedded_mongo import EmbeddedMongo  # noqa: E402

DATA_DIR = ROOT / "data"
DEFAULT_PORT = 27027


def start_embedded_database():
    port = int(os.environ.get("EMBEDDED_DB_PORT", DEFAULT_PORT))
    server = EmbeddedMongo(DATA_DIR / "secantus", port=port, log_path=DATA_DIR / "secantusd.log")
    print(f"Starting the embedded database (SecantusDB) on 127.0.0.1:{port}, data in {DATA_DIR}")
    server.start()
    os.environ["MONGODB_URI"] = server.uri()
    return server


def serve():
    from app import close_connections, create_app

    app = create_app()
    from seed_videos import seed_if_empty

    seeded = seed_if_empty(app)
    if seeded:
        print(f"Seeded {len(seeded)} demo videos (processing in the background)")
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", 5000))
    print(f"API on http://{host}:{port}  (admin: {app.config.get('ADMIN_EMAIL')})")
    # The app writes its own JSON access line per request; werkzeug's would repeat it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        close_connections(app)


def stop_on_signals():
    """Ctrl-C (SIGINT) and SIGTERM both end the run, stopping the database too.

    SIGINT is re-armed because a shell ignores it in commands it starts in the background.
    """

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


def main():
    stop_on_signals()
    os.environ.setdefault("APP_ENV", "development")
    server = None if os.environ.get("MONGODB_URI") else start_embedded_database()
    try:
        serve()
    except KeyboardInterrupt:
        pass
    finally:
        if server:
            print("Stopping the embedded database")
            server.stop()


if __name__ == "__main__":
    main()
