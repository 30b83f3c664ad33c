"""``talks label --web``: the labelling tool as a page served on 127.0.0.1.

Same queue (:func:`labeltool.build_queue`), same model suggestions
(:func:`labeltool.suggest`), same journal and same one-session-per-annotator
lock as the terminal tool.  Each decision is appended to the journal and
fsynced before its HTTP response is sent, so killing the server loses no
decision the page showed as saved; the journal is folded into the CSV on a
clean stop (Ctrl-C) and at the next start.

Two layers:

* :class:`WebSession` -- queue, leases, saves, skips and undo for any number
  of browser tabs (clients).  Every change of state and every journal write
  happens under one lock.  No HTTP, no printing.
* :class:`LabelServer` and its handler -- the HTTP shell: one page
  (``data/label.html``) and four JSON endpoints, behind the checks that keep
  other web sites out (Host, Origin, token, content type).

:func:`run_web_labeller` ties them together for ``cli.py``.
"""
from __future__ import annotations

import hmac
import json
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.errors import LabelError
from pipeline.labels.journal import append_journal, save_record, undo_record
from pipeline.labels.store import VALUE_COLUMNS, format_suggested, store_path
from pipeline.labelling.terminal import KEYS, Item, exclusive_session, start_values, suggested_queue
from pipeline.project import Project
from pipeline.records import LABELS

# A tab keeps its sentence while it is open; the lease only frees the sentence
# of a tab that was closed without saving.  It is renewed on every request.
LEASE_SECONDS = 30 * 60.0
MAX_BODY = 64 * 1024
# A page needs a few connections at a time; more than this are answered 503 at
# once, so stalled or hostile clients cannot make the server start a thread each.
MAX_CONNECTIONS = 32
# Seconds a connection may stay silent in the middle of a request before it is
# closed: a client that connects and sends nothing frees its slot.
READ_TIMEOUT = 10.0
BUSY_ANSWER = b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
TOKEN_HEADER = "X-Talks-Token"
_CLIENT = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class BadRequest(ValueError):
    """A request the page would never send (unknown sentence, bad values)."""


class Closed(RuntimeError):
    """The server is stopping: the journal is being folded, nothing more is written."""


# --------------------------------------------------------------------------
# State: queue, leases, saves, undo (no HTTP)
# --------------------------------------------------------------------------
def _decision(values) -> dict:
    """The 0/1 values of a save, checked like a store row (junk carries no labels)."""
    if not isinstance(values, dict) or set(values) - set(VALUE_COLUMNS) or any(
            isinstance(v, float) or v not in (0, 1) for v in values.values()):
        raise BadRequest(f"values must map {', '.join(VALUE_COLUMNS)} to 0 or 1")
    out = {c: int(values.get(c, 0)) for c in VALUE_COLUMNS}
    if out["junk"] and any(out[lab] for lab in LABELS):
        raise BadRequest("a junk sentence carries no labels; untick them or untick junk")
    return out


class WebSession:
    """The labelling state shared by every tab of one annotator.

    Each tab (``client`` id) is leased its own sentence, in queue order, so two
    tabs never label the same sentence; a lease ends on save or skip, or after
    ``lease_seconds`` without a request from that tab.  Saving a sentence that
    was saved before replaces that decision (the journal fold keeps one row
    per sentence).  Undo undoes the tab's own latest decision.
    """

    def __init__(self, annotator: str, labels_dir: str | Path, items: list[Item], lease_seconds: float = LEASE_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.annotator = annotator
        self.labels_dir = Path(labels_dir)
        self.items = items
        self.index = {it.sentence_id: i for i, it in enumerate(items)}
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.saved: dict[str, dict] = {}  # sentence id -> values saved in this session
        self.skipped: set[str] = set()  # not offered again in this session, as in the terminal
        self.leases: dict[str, tuple[str, float]] = {}  # sentence id -> (client, expiry)
        self.shown: dict[str, tuple[str, dict | None]] = {}  # client -> (its sentence, values to show after an undo)
        # (sentence, client, values before) of each save still standing: the same
        # replay as the journal fold, so memory and disk agree after any undo
        self.history: list[tuple[str, str, dict | None]] = []
        self.lock = threading.Lock()
        self.closed = False

    @property
    def remaining(self) -> int:
        return len(self.items) - len(self.saved)

    # -- requests (each one under the lock) --------------------------------
    def state(self, client: str) -> dict:
        """The tab's sentence (leasing it the next free one if it has none) and progress."""
        with self.lock:
            self._refuse_if_closed()
            self._lease(client)
            return self._view(client)

    def save(self, client: str, sentence_id: str, values) -> dict:
        values = _decision(values)
        with self.lock:
            self._refuse_if_closed()
            it = self._item(sentence_id)
            # on disk before the answer: an acknowledged decision survives kill -9
            append_journal(self.labels_dir, self.annotator, save_record(
                self.annotator, it.sentence_id, it.article_id, it.text, values, format_suggested(it.suggested)))
            self.history.append((sentence_id, client, self.saved.get(sentence_id)))
            self.saved[sentence_id] = values
            self.leases.pop(sentence_id, None)  # decided: nobody needs to hold it any more
            self._move_on(client)
            return self._view(client)

    def skip(self, client: str, sentence_id: str) -> dict:
        with self.lock:
            self._refuse_if_closed()
            self._item(sentence_id)
            self.skipped.add(sentence_id)
            self._move_on(client)
            return self._view(client, "skipped")

    def undo(self, client: str) -> dict:
        """Undo this tab's latest decision and show it again, as the terminal's ``u``."""
        with self.lock:
            self._refuse_if_closed()
            mine = [i for i, (_, c, _) in enumerate(self.history) if c == client]
            if not mine:
                self._lease(client)
                return self._view(client, "nothing to undo in this tab")
            i = mine[-1]
            sid = self.history[i][0]
            if any(h[0] == sid for h in self.history[i + 1:]):
                self._lease(client)
                return self._view(client, "that sentence was saved again in another tab since; nothing undone")
            append_journal(self.labels_dir, self.annotator, undo_record(self.annotator, sid))
            before = self.history.pop(i)[2]
            undone = self.saved.pop(sid)
            if before is not None:
                self.saved[sid] = before
            self.skipped.discard(sid)
            self._release(client)
            self.shown[client] = (sid, undone)
            self._lease(client)
            return self._view(client, "undone; change it and press Enter, or s to skip")

    def close(self) -> None:
        """Refuse every later request; waits for the one in progress (its write completes)."""
        with self.lock:
            self.closed = True

    # -- helpers (called with the lock held) -------------------------------
    def _refuse_if_closed(self) -> None:
        if self.closed:
            raise Closed("the labeller is stopping; nothing more is saved")

    def _item(self, sentence_id) -> Item:
        if not isinstance(sentence_id, str) or sentence_id not in self.index:
            raise BadRequest(f"sentence {sentence_id!r} is not in this queue")
        return self.items[self.index[sentence_id]]

    def _holder(self, sid: str, now: float) -> str | None:
        lease = self.leases.get(sid)
        return lease[0] if lease and lease[1] > now else None

    def _open(self, sid: str) -> bool:
        return sid not in self.saved and sid not in self.skipped

    def _lease(self, client: str) -> None:
        """Keep the tab on its sentence (renewing the lease) unless another tab
        took it after the lease ran out or decided it meanwhile (an undone
        sentence stays: it is shown to be changed); else lease it the next
        free one."""
        now = self.clock()
        sid, override = self.shown.get(client, (None, None))
        if sid is None or self._holder(sid, now) not in (None, client) or (override is None and not self._open(sid)):
            override = None
            sid = next((it.sentence_id for it in self.items
                        if self._open(it.sentence_id) and self._holder(it.sentence_id, now) is None), None)
        if sid is None:
            self.shown.pop(client, None)
            return
        self.leases[sid] = (client, now + self.lease_seconds)
        self.shown[client] = (sid, override)

    def _release(self, client: str) -> None:
        sid, _ = self.shown.pop(client, (None, None))
        if sid is not None and self.leases.get(sid, ("",))[0] == client:
            del self.leases[sid]

    def _move_on(self, client: str) -> None:
        self._release(client)
        self._lease(client)

    def _view(self, client: str, message: str = "") -> dict:
        sid, override = self.shown.get(client, (None, None))
        item = None
        if sid is not None:
            it = self.items[self.index[sid]]
            item = {
                "sentence_id": it.sentence_id, "article_id": it.article_id, "title": it.title,
                "prev": it.prev, "text": it.text, "next": it.next, "position": self.index[sid] + 1,
                "values": override or start_values(it, self.saved.get(sid)), "proba": it.proba,
                "suggested": it.suggested is not None and override is None and sid not in self.saved,
            }
        elif not message:
            now = self.clock()
            elsewhere = sum(1 for c, t in self.leases.values() if t > now and c != client)
            n = len(self.items)
            message = (f"nothing left for this tab: {elsewhere} sentence(s) are open in other tabs" if elsewhere
                       else f"All {n} sentence(s) in this queue done." if n else "Nothing to label in this queue.")
        return {"annotator": self.annotator, "saved": len(self.saved), "left": self.remaining, "total": len(self.items),
                "keys": KEYS, "item": item, "message": message}


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------
class LabelServer(ThreadingHTTPServer):
    """Serves one :class:`WebSession` on 127.0.0.1 only (never another interface),
    to at most ``MAX_CONNECTIONS`` connections at a time, each closed after
    ``READ_TIMEOUT`` seconds of silence.  ``errors``: one line per request
    that failed in an unexpected way (a bug), for the caller to report."""

    daemon_threads = True
    # connections waiting to be accepted: the default 5 drops a burst of the page's requests
    request_queue_size = 64

    def __init__(self, session: WebSession, port: int = 0):
        try:
            super().__init__(("127.0.0.1", port), _Handler)
        except OSError as e:
            raise LabelError(f"cannot listen on 127.0.0.1:{port} ({e.strerror}); pick another --port, or 0 for any free one") from None
        self.session = session
        self.port = self.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        # DNS rebinding: a hostile name resolving to 127.0.0.1 still sends its own Host
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.origins = {f"http://{h}" for h in self.hosts}
        # only a page this server rendered knows it: other sites' forms and fetches do not
        self.token = secrets.token_urlsafe(32)
        self.page = files("pipeline").joinpath("data/label.html").read_text(encoding="utf-8")
        self.read_timeout = READ_TIMEOUT
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.errors: list[str] = []

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            try:
                request.sendall(BUSY_ANSWER)
            except OSError:
                pass  # the client is gone already: nothing to tell it
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()  # no thread started: nobody else gives the slot back
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address) -> None:
        """A client that hung up or fell silent is not an error; anything else is kept
        in ``errors`` (socketserver would print a traceback on the annotator's terminal)."""
        e = sys.exc_info()[1]
        if not isinstance(e, (ConnectionError, TimeoutError)):
            self.errors.append(f"{type(e).__name__}: {e}")


class _Handler(BaseHTTPRequestHandler):
    server: LabelServer

    @property
    def timeout(self) -> float:  # read by StreamRequestHandler.setup to time out the socket's reads
        return self.server.read_timeout

    def version_string(self) -> str:
        return "talks-label"  # no Python version for a visitor to fingerprint

    def log_message(self, format, *args) -> None:
        pass  # only cli.py prints

    def _send(self, status: int, body: bytes, ctype: str, nonce: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        src = f"'nonce-{nonce}'" if nonce else "'none'"
        self.send_header("Content-Security-Policy", f"default-src 'self'; script-src {src}; style-src {src}; "
                         "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "same-origin")
        self.send_header("Cache-Control", "no-store")  # the page carries the token
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: dict) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _host_ok(self) -> bool:
        if self.headers.get("Host") in self.server.hosts:
            return True
        self._json(403, {"error": "wrong Host header"})
        return False

    def do_GET(self) -> None:
        if not self._host_ok():
            return
        if self.path == "/":
            nonce = secrets.token_urlsafe(16)
            page = self.server.page.replace("{{TOKEN}}", self.server.token).replace("{{NONCE}}", nonce)
            self._send(200, page.encode("utf-8"), "text/html; charset=utf-8", nonce)
        elif self.path == "/favicon.ico":
            self._send(204, b"", "image/x-icon")
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        if not self._host_ok():
            return
        origin = self.headers.get("Origin")
        if origin is None and self.headers.get("Referer"):
            ref = urlsplit(self.headers["Referer"])
            origin = f"{ref.scheme}://{ref.netloc}"
        if origin not in self.server.origins:
            return self._json(403, {"error": "request from another site refused"})
        # as bytes: compare_digest refuses str with non-ASCII characters, which a header may carry
        sent = self.headers.get(TOKEN_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(sent, self.server.token.encode("ascii")):
            return self._json(403, {"error": "missing or wrong token; reload the page"})
        if self.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
            return self._json(415, {"error": "send JSON (Content-Type: application/json)"})
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._json(411, {"error": "Content-Length required"})
        if not 0 <= length <= MAX_BODY:
            return self._json(413, {"error": "request too large"})
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except (ValueError, RecursionError):  # RecursionError: nested too deep for the parser
            return self._json(400, {"error": "body is not valid JSON"})
        if not isinstance(body, dict) or not _CLIENT.match(str(body.get("client", ""))):
            return self._json(400, {"error": "body must be a JSON object with a client id"})
        s, client = self.server.session, body["client"]
        routes = {
            "/api/state": lambda: s.state(client),
            "/api/save": lambda: s.save(client, body.get("sentence_id"), body.get("values")),
            "/api/skip": lambda: s.skip(client, body.get("sentence_id")),
            "/api/undo": lambda: s.undo(client),
        }
        if self.path not in routes:
            return self._json(404, {"error": "not found"})
        try:
            self._json(200, routes[self.path]())
        except BadRequest as e:
            self._json(400, {"error": str(e)})
        except Closed as e:
            self._json(503, {"error": str(e)})
        except OSError as e:  # the journal could not be written: the page must not move on
            self._json(500, {"error": f"not saved: {e}"})


# --------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------
def run_web_labeller(annotator: str, project: Project = Project(), order: str = "articles",
                     queue: str | Path | None = None, article: str | None = None, suggestions: bool = False, port: int = 0,
                     ready: Callable[[LabelServer, str | None], None] | None = None, revisit: bool = False) -> dict:
    """Serve the project's labelling page until Ctrl-C (or ``server.shutdown()`` from
    another thread); returns saved (decisions kept), path, remaining, like
    :func:`labeltool.run_labeller`, and errors (:attr:`LabelServer.errors`).

    ``ready(server, notice)`` is called once the port is open (``server.url``;
    ``notice``: why there are no suggestions, if so).  ``suggestions``: pre-tick
    those of the current model in ``project.models``; False labels blind.  ``revisit``:
    also show the sentences this annotator labelled before (by default the page resumes).
    """
    labels_dir = Path(project.labels)
    with exclusive_session(labels_dir, annotator):
        items, notice = suggested_queue(annotator, project, order, queue, article, suggestions, revisit)
        session = WebSession(annotator, labels_dir, items)
        with LabelServer(session, port) as server:
            if ready:
                ready(server, notice)
            try:
                server.serve_forever(poll_interval=0.2)
            except KeyboardInterrupt:
                pass  # Ctrl-C is how the annotator stops
            finally:
                session.close()  # no write may race the journal fold that follows
    return {"saved": len(session.saved), "path": str(store_path(labels_dir, annotator)), "remaining": session.remaining,
            "errors": server.errors}
