"""``make postman``'s server: a fresh API on a throwaway embedded database.

    python scripts/postman_server.py DATA_DIR

Unlike ``make run`` (scripts/dev_server.py: ./data and fixed ports), this keeps
everything under DATA_DIR, which the caller creates and deletes, and binds both
the database and the API to free ports, so it never touches a developer's data
or a running ``make run``. Once the API listens it writes its port to
DATA_DIR/port. SIGTERM or Ctrl-C stops the API and then the database.
"""

import logging
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.embedded_mongo import EmbeddedMongo  # noqa: E402


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    data_dir = Path(sys.argv[1]).resolve()
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)  # a shell ignores SIGINT in background jobs
    # Development: the seed adds the demo accounts and videos the collection plays.
    os.environ.setdefault("APP_ENV", "development")
    database = EmbeddedMongo(data_dir / "secantus", log_path=data_dir / "secantusd.log")
    database.start()
    os.environ["MONGODB_URI"] = database.uri()
    app = None
    try:
        from werkzeug.serving import make_server

        from app import close_connections, create_app
        from seed_videos import seed_if_empty

        app = create_app()
        # The app writes its own JSON access line per request; werkzeug's would repeat it.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        seeded = seed_if_empty(app)
        print(f"Seeded {len(seeded)} demo videos (processing in the background)", flush=True)
        # Port 0: the OS picks a free port, with no window for another process to take it.
        server = make_server("127.0.0.1", 0, app, threaded=True)
        (data_dir / "port").write_text(str(server.server_port))
        print(f"API on http://127.0.0.1:{server.server_port}", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if app is not None:
            # Queued processing is dropped: the database it would write to is about to go.
            app.extensions["media_jobs"].executor.shutdown(wait=False, cancel_futures=True)
            close_connections(app)
        database.stop()


if __name__ == "__main__":
    main()
