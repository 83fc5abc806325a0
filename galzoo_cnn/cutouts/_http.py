# Licensed under a 3-clause BSD style license - see LICENSE
"""The HTTP client of `galzoo_cnn.cutouts.fetch_cutouts`: retries with back-off, ``Retry-After``, a
deadline that covers status line, headers and body, cancellation, and typed failures whose kind is
a cutout's status."""

import datetime
import email.utils
import hashlib
import http.client
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..exceptions import CutoutError
from ..tables import (
    atomic_write,
)

#: Longest wait a ``Retry-After`` or a back-off may impose, and the largest answer accepted.
_MAX_RETRY_WAIT = 120.0
_MAX_CUTOUT_BYTES = 64 * 2**20


class _Fetcher:
    """Downloads one cutout with retries; shared by the worker threads."""

    def __init__(self, service, retries, timeout, backoff, size, max_dead_fraction, deadline):
        self.service = service
        self.retries, self.timeout, self.backoff = retries, timeout, backoff
        self.size, self.max_dead_fraction, self.deadline = size, max_dead_fraction, deadline
        self.rng = random.Random()
        self.lock = threading.Lock()
        self.stop = threading.Event()  # set when the run is interrupted: no new attempt starts
        self.watches = set()  # the requests in flight, cut by halt()

    def _sleep(self, attempt, retry_after=None):
        if retry_after is not None:
            delay = retry_after
        else:
            with self.lock:
                jitter = self.rng.uniform(0.5, 1.5)
            delay = self.backoff * 2 ** (attempt - 1) * jitter
        self.stop.wait(min(delay, _MAX_RETRY_WAIT))

    def _read(self, url):
        """The body of ``url``, within ``timeout`` per socket read and ``deadline`` for the whole answer,
        status line and headers included (a server dripping bytes never holds a request longer), at most
        `_MAX_CUTOUT_BYTES`."""
        watch = _Watch()
        timer = threading.Timer(self.deadline, watch.cut)
        timer.daemon = True
        with self.lock:
            self.watches.add(watch)
        timer.start()
        start = time.monotonic()
        request = urllib.request.Request(url, headers={"User-Agent": "galzoo_cnn"})
        chunks, total = [], 0
        try:
            opener = urllib.request.build_opener(_WatchedHTTPHandler(watch), _WatchedHTTPSHandler(watch))
            with opener.open(request, timeout=self.timeout) as response:
                while chunk := response.read1(65536):
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > _MAX_CUTOUT_BYTES:
                        raise _TooLarge(f"answer larger than {_MAX_CUTOUT_BYTES // 2**20} MiB")
                    if time.monotonic() - start > self.deadline:
                        raise _Deadline(f"no complete answer within the deadline of {self.deadline:g} s")
                    if self.stop.is_set():
                        raise _Stopped()
        except (_TooLarge, _Deadline, _Stopped):
            raise
        except Exception:
            # a cut socket surfaces as whatever the read in progress raises: say why it was cut
            if self.stop.is_set():
                raise _Stopped() from None
            if watch.expired:
                raise _Deadline(f"no complete answer within the deadline of {self.deadline:g} s") from None
            raise
        finally:
            timer.cancel()
            with self.lock:
                self.watches.discard(watch)
        if watch.expired:  # cut between two reads: what arrived may look complete but is not
            raise _Deadline(f"no complete answer within the deadline of {self.deadline:g} s")
        return b"".join(chunks)

    def halt(self):
        """Stop the run: no new attempt starts, and the requests in flight are cut at once."""
        self.stop.set()
        with self.lock:
            watches = list(self.watches)
        for watch in watches:
            watch.cut()

    def fetch(self, urls, path):
        """Download ``urls`` (one, or one per band) into ``path``; return (status, reason, attempts,
        nbytes, sha256)."""
        contents, total_attempts = [], 0
        for url in urls:
            status, reason, attempts, content = self._get(url)
            total_attempts += attempts
            if status != "ok":
                return status, reason, total_attempts, 0, ""
            contents.append(content)
        data = self.service.assemble(contents, urls)
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
        return "ok", "", total_attempts, len(data), hashlib.sha256(data).hexdigest()

    def _get(self, url):
        """One URL with retries: (status, reason, attempts, validated content); the status of a
        failure is that of the last attempt (``corrupt`` for an answer that arrived unusable)."""
        status, reason = "failed", ""
        for attempt in range(1, self.retries + 1):
            retry_after = None
            if self.stop.is_set():
                return "failed", "interrupted", attempt - 1, None
            try:
                data = self._read(url)
            except _Stopped:
                return "failed", "interrupted", attempt, None
            except _TooLarge as err:
                return "corrupt", str(err), attempt, None
            except urllib.error.HTTPError as err:
                status, reason = "failed", f"HTTP {err.code} {err.reason}"
                if err.code in (429, 503):
                    retry_after = _retry_after(err.headers.get("Retry-After"))
                if 400 <= err.code < 500 and err.code != 429:
                    return status, reason, attempt, None
            except TimeoutError as err:
                status, reason = "failed", (str(err) if isinstance(err, _Deadline)
                                            else f"timed out after {self.timeout} s")
            except urllib.error.URLError as err:
                timed_out = isinstance(err.reason, TimeoutError)
                status, reason = "failed", (f"timed out after {self.timeout} s" if timed_out
                                            else f"connection error: {err.reason}")
            except http.client.IncompleteRead as err:
                status, reason = "corrupt", f"truncated body ({len(err.partial)} bytes received)"
            except (ConnectionError, http.client.HTTPException) as err:
                status, reason = "failed", f"connection error: {err!r}"
            else:
                try:
                    content = self.service.check_answer(data, self.size, self.max_dead_fraction)
                except CutoutError as err:
                    if err.reason == "blank":  # the survey has no data there: asking again will not help
                        return "blank", str(err), attempt, None
                    status, reason = "corrupt", str(err)
                else:
                    return "ok", "", attempt, content
            if attempt < self.retries:
                self._sleep(attempt, retry_after)
        return status, reason, self.retries, None


def _retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date (RFC 9110, 10.2.3).

    Examples
    --------
    >>> from galzoo_cnn.cutouts._http import _retry_after
    >>> _retry_after("3"), _retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0)
    (3.0, 10.0)
    """
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _Watch:
    """The sockets of one request, shut down together when its deadline passes or the run stops: a
    socket timeout bounds each read, not a server that sends its status line or headers a byte at a
    time, or ``100 Continue`` forever."""

    def __init__(self):
        self.sockets, self.expired = [], False
        self.lock = threading.Lock()

    def add(self, sock):
        with self.lock:
            self.sockets.append(sock)
            expired = self.expired
        if expired:
            self.cut()

    def cut(self):
        with self.lock:
            self.expired = True
            sockets = list(self.sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Watched:
    """A connection whose socket joins a `_Watch` as soon as it is connected."""

    def __init__(self, *args, watch, **kwargs):
        super().__init__(*args, **kwargs)
        self.watch = watch

    def connect(self):
        super().connect()
        self.watch.add(self.sock)


class _WatchedConnection(_Watched, http.client.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, http.client.HTTPSConnection):
    pass


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watch):
        super().__init__()
        self.watch = watch

    def http_open(self, req):
        return self.do_open(lambda *a, **k: _WatchedConnection(*a, watch=self.watch, **k), req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watch):
        super().__init__()
        self.watch = watch

    def https_open(self, req):
        return self.do_open(lambda *a, **k: _WatchedHTTPSConnection(*a, watch=self.watch, **k), req,
                            context=self._context)


class _Stopped(Exception):
    """The run was interrupted while this request was in flight."""


class _Deadline(TimeoutError):
    """The whole answer took longer than the deadline."""


class _TooLarge(Exception):
    """The answer outgrew `_MAX_CUTOUT_BYTES`."""
