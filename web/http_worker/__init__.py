"""gunicorn's gthread worker, changed so that a connection doing nothing holds no thread.

gthread gives each connection a thread from its first byte until its response is
sent: 32 clients per process that send half a request, or stop reading, and the API
stops answering. ``GuardedThreadWorker`` (gunicorn.conf.py; HTTP/1.x without TLS only):

- reads the request head, and a small body with it, in the worker's poller (no thread), for
  at most ``HEAD_SECONDS``; the oldest such connection makes room when ``MAX_WAITING`` wait;
- gives the connection a thread only when its request is complete; a larger
  body (an upload) is read by the thread, and a read that waits
  ``BODY_STALL_SECONDS`` for a byte fails (SO_RCVTIMEO);
- writes responses with a send timeout of ``SEND_STALL_SECONDS``: a client
  that stops reading for that long is parked in the poller (its thread goes
  back to the pool) and resumed when its socket is writable again. A parked
  response is dropped after ``PAUSE_SECONDS``, or when ``MAX_WAITING`` are
  parked (the oldest first); its player reconnects with a Range;
- takes new connections only while its threads, and responses parked within
  the last second (whose clients will likely read again at once), are fewer
  than its threads; the rest wait in the listen backlog for another process,
  and when resumed responses outnumber the threads, each stream sends for
  ``SLICE_SECONDS`` and then lets a queued one have its thread;
- sends a body that is the server's ``wsgi.file_wrapper`` around a real file
  (web/file_body.py) with the kernel's sendfile, a slice at a time, parked
  and taking turns the same way (file_send.py), from sender threads of a
  lower CPU priority than the request threads (senders.py);
- closes a finished connection without waiting on its client (closing.py).
"""

import errno
import selectors
import socket
import time
from datetime import datetime
from functools import partial

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers.gthread import ThreadWorker

from web.http_worker.access import writes_access_lines
from web.http_worker.arriving import SMALL_BODY, ArrivingRequest
from web.http_worker.closing import ClosingConn, Lingering
from web.http_worker.file_send import FileSend
from web.http_worker.output import PARKED, YIELDED, NonBlockingOutput, Stream, socket_timeout
from web.http_worker.senders import HANDED, Senders

HEAD_SECONDS = 15
BODY_STALL_SECONDS = 30
SEND_STALL_SECONDS = 0.05
PAUSE_SECONDS = 300
RECENTLY_PARKED_SECONDS = 1  # still counted against the threads: its client likely reads soon
SLICE_SECONDS = 0.1  # a stream sends this long, then lets a queued one have its thread
MAX_WAITING = 1000  # per process, for heads and for parked responses each


class GuardedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.busy = 0  # connections given to the thread pool and not back yet
        self.reading = {}  # connection -> deadline for its request
        self.parked = {}  # connection -> deadline for its client to read again
        self.lingering = Lingering(self)  # closed connections whose clients have not closed

    def init_process(self):
        self.senders = Senders(self.cfg.threads, self.method_queue.defer)
        super().init_process()  # runs the worker until it stops

    # Accepting: a connection waits for its request in the poller

    def accept(self, listener):
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, socket_timeout(BODY_STALL_SECONDS))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, socket_timeout(SEND_STALL_SECONDS))
        conn = self._new_conn(sock, client, listener.getsockname())
        self._read_request(conn)

    def _new_conn(self, sock, client, server):
        conn = ClosingConn(self.lingering, self.cfg, sock, client, server)
        conn.arriving, conn.stream = ArrivingRequest(), None
        return conn

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection's next request is read like a new one."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        conn.arriving, conn.stream = ArrivingRequest(), None
        self._read_request(conn)

    def _read_request(self, conn):
        if len(self.reading) >= MAX_WAITING:
            self._drop(next(iter(self.reading)), self.reading)
        conn.sock.setblocking(False)
        self.reading[conn] = time.monotonic() + HEAD_SECONDS
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_request_bytes, conn))

    def _on_request_bytes(self, conn, sock):
        try:
            data = sock.recv(SMALL_BODY)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn, self.reading)
            return
        if conn.arriving.add(data):
            self.poller.unregister(sock)
            del self.reading[conn]
            conn.data_ready = True
            self.enqueue_req(conn)

    # Threads: only complete requests and writable clients get one

    def enqueue_req(self, conn):
        self.busy += 1
        if self._streams_in_flight() >= self.cfg.threads:
            self.set_accept_enabled(False)  # the rest wait in the backlog for a free process
        if conn.stream is None or conn.stream.file is None:
            super().enqueue_req(conn)
        else:
            self.senders.submit(self.handle, conn, self.finish_request)

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and self._streams_in_flight() < self.cfg.threads)

    def _streams_in_flight(self):
        """Threads in use, and responses parked too recently to be paused players."""
        recent = time.monotonic() + PAUSE_SECONDS - RECENTLY_PARKED_SECONDS
        return self.busy + sum(deadline > recent for deadline in self.parked.values())

    def handle(self, conn):
        if conn.stream is not None:
            return self._resume(conn)
        if conn.arriving is not None:
            conn.init()
            conn.parser.unreader.unread(bytes(conn.arriving.data))
            conn.arriving = None
        return super().handle(conn)

    def _keepalive_after(self, conn, keepalive):
        if keepalive in (PARKED, YIELDED, HANDED):
            return keepalive
        return super()._keepalive_after(conn, keepalive)

    def handle_request(self, req, conn):
        """gthread's, with the body sent by ``_send`` (which may park it)."""
        environ, resp = {}, None
        output = NonBlockingOutput(conn.sock)
        try:
            self.cfg.pre_request(self, req)
            resp, environ = wsgi.create(req, output, conn.client, conn.server, self.cfg)
            environ["wsgi.multithread"] = True
            self.nr += 1
            if self.nr >= self.max_requests and self.alive:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            if not self._may_keep_alive():
                resp.force_close()
            respiter = self.wsgi(environ, resp.start_response)
            file = FileSend.for_body(respiter, environ, resp, self.cfg)  # None: iterate it
            conn.stream = Stream(req, resp, environ, respiter, output, file)
        except Exception:
            self.cfg.post_request(self, req, environ, resp)
            raise
        return HANDED if file is not None and file.long() else self._send(conn)

    def _may_keep_alive(self):
        keep = self.alive and self.cfg.keepalive and self.nr < self.max_requests
        return keep and len(self.keepalived_conns) < self.max_keepalived

    def _send(self, conn):
        """Send the rest of the response; PARKED when the client stops reading."""
        stream = conn.stream
        try:
            if not stream.output.flush():
                return PARKED
            paused = self._send_body(stream, time.monotonic() + SLICE_SECONDS)
            if paused:
                return paused
            if not stream.closing:
                stream.closing = True
                stream.resp.close()
                if not stream.output.flush():
                    return PARKED
        except OSError:
            self._finish(conn)
            raise
        except BaseException:
            self._finish(conn)
            if not stream.resp.headers_sent:
                raise  # gunicorn answers 500
            # A 500 now would land in the middle of the body.
            self.log.exception("Error handling request")
            util.close_graceful(conn.sock)
            raise StopIteration() from None
        self._finish(conn)
        return not stream.resp.should_close()

    def _send_body(self, stream, slice_ends):
        """None once the body is out; PARKED or YIELDED when it must wait."""
        if stream.file is not None:
            turn_over = partial(self._turn_over, True, slice_ends)
            return stream.file.send_body(stream.resp, stream.output, turn_over)
        for item in stream.items:
            stream.resp.write(item)
            if stream.output.pending:
                return PARKED
            if self._turn_over(False, slice_ends):
                return YIELDED
        return None

    def _turn_over(self, sending_file, slice_ends):
        """Whether streams wait for this stream's pool (threads or senders) and it had its slice."""
        if sending_file:
            return self.senders.crowded() and time.monotonic() > slice_ends
        queued = self.busy - self.senders.queued > self.cfg.threads  # busy: the senders' too
        return queued and time.monotonic() > slice_ends

    def _resume(self, conn):
        try:
            return self._send(conn)
        except OSError as error:
            if error.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error sending a response.")
        except StopIteration:
            pass
        except Exception:
            self.log.exception("Error sending a response.")
        return False

    def _finish(self, conn):
        stream, conn.stream = conn.stream, None
        if stream is None:
            return
        try:
            if writes_access_lines(self.log):
                elapsed = datetime.now() - stream.started
                self.log.access(stream.resp, stream.req, stream.environ, elapsed)
            if hasattr(stream.respiter, "close"):
                stream.respiter.close()
        finally:
            self.cfg.post_request(self, stream.req, stream.environ, stream.resp)

    # Back on the poller's thread

    def finish_request(self, conn, fs):
        self.busy -= 1
        result = None if fs.cancelled() or fs.exception() else fs.result()
        if result is PARKED:
            self._park(conn)
        elif result is YIELDED or result is HANDED:
            self.enqueue_req(conn)  # at the back of the queue (of the senders for a file)
        else:
            super().finish_request(conn, fs)

    def _park(self, conn):
        if len(self.parked) >= MAX_WAITING:
            self._drop(next(iter(self.parked)), self.parked)
        self.parked[conn] = time.monotonic() + PAUSE_SECONDS
        self.poller.register(conn.sock, selectors.EVENT_WRITE, partial(self._on_writable, conn))

    def _on_writable(self, conn, sock):
        self.poller.unregister(sock)
        del self.parked[conn]
        self.enqueue_req(conn)

    def murder_pending(self):
        """gthread's sweep, then the heads and the paused readers that took too long."""
        super().murder_pending()
        self.lingering.sweep()
        if not self.alive:  # stopping: no new request is read
            for conn in list(self.reading):
                self._drop(conn, self.reading)
        now = time.monotonic()
        for waiting in (self.reading, self.parked):
            for conn in [conn for conn, deadline in waiting.items() if deadline <= now]:
                self._drop(conn, waiting)

    def _drop(self, conn, waiting):
        del waiting[conn]
        self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        if conn.stream is None:
            conn.close()
        else:  # closing the body may talk to MongoDB: not on the poller's thread
            self.tpool.submit(self._abandon, conn)

    def _abandon(self, conn):
        try:
            self._finish(conn)
        except Exception:
            self.log.exception("Error closing an abandoned response.")
        finally:
            conn.close()
