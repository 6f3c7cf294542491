"""Real concurrency for race tests: requests released together, and proof that they overlapped."""

import threading


class InFlight:
    """How many requests were inside the wrapped apps at the same moment, at most."""

    def __init__(self):
        self.now = self.peak = 0
        self._lock = threading.Lock()

    def wrap(self, app):
        inner = app.wsgi_app

        def counted(environ, start_response):
            with self._lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
            try:
                return inner(environ, start_response)  # the view (and the view count) runs here
            finally:
                with self._lock:
                    self.now -= 1

        app.wsgi_app = counted
        return app

    def reset(self):
        self.now = self.peak = 0


def all_at_once(calls):
    """Run each no-argument call in its own thread, released together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait(timeout=60)
            results[index] = call()
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    if errors:
        raise errors[0]
    return results
