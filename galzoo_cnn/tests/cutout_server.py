# Licensed under a 3-clause BSD style license - see LICENSE
"""A cutout service on 127.0.0.1 for the tests: both endpoints, real JPEGs, scripted faults.

It answers ``/dr<N>/SkyServerWS/ImgCutout/getjpeg?ra=&dec=&scale=&width=&height=`` (SDSS)
and ``/jpeg-cutout?ra=&dec=&layer=&pixscale=&size=`` (Legacy Surveys) with a real SDSS
cutout of the bundled test data, resampled to the requested size, and
``/hips2fits?hips=&width=&height=&ra=&dec=&fov=&format=fits`` with a float32 FITS image:
one colour plane of that cutout (``.../g`` blue, ``.../r`` green, ``.../i`` red) and a
TAN WCS centred on the position (``blank`` gives an all-NaN image, as outside a survey).  ``plan[ra]`` lists
what to do on successive requests for that ``ra`` (then ``ok``): ``ok``, ``500``,
``404``, ``429`` (``Retry-After: 1``), ``timeout`` (answers after ``stall`` seconds),
``truncated`` (closes after half the body promised by Content-Length), ``garbage``
(a body that is no image), ``blank`` (a constant image), ``small`` (wrong size),
``429date`` (``Retry-After`` as an HTTP-date 2 s ahead), ``drip`` (the body one byte
every ``drip`` seconds) and ``bomb`` (a valid 20000 x 20000 PNG of 50 kB: a
decompression bomb).
"""

import email.utils
import functools
import io
import threading
import time
import urllib.parse
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

IMAGES = sorted((Path(__file__).parent / "data" / "gz1_images").glob("*.jpg"))


@functools.cache
def bomb_png():
    """A valid 1-bit PNG of 20000 x 20000 pixels (400 million: over twice Pillow's bomb limit) in 50 kB."""
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG", optimize=False)
    return buffer.getvalue()


def _jpeg(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


#: Colour plane of the JPEG served for each band of a hips2fits request.
BAND_PLANES = {"g": 2, "r": 1, "i": 0}


def _fits(array, query, blank=False):
    from astropy.io import fits
    from astropy.wcs import WCS

    plane = array[..., BAND_PLANES[query["hips"].rsplit("/", 1)[-1]]].astype(np.float32)
    if blank:
        plane = np.full_like(plane, np.nan)
    height, width = plane.shape
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [float(query["ra"]), float(query["dec"])]
    wcs.wcs.crpix = [(width + 1) / 2, (height + 1) / 2]
    scale = float(query["fov"]) / max(width, height)
    wcs.wcs.cdelt = [-scale, scale]
    buffer = io.BytesIO()
    fits.PrimaryHDU(plane[::-1], header=wcs.to_header()).writeto(buffer)  # FITS rows run south to north
    return buffer.getvalue()


def fetch_manifest(table, directory, **options):
    """`fetch_cutouts`, returning the manifest it wrote (the tests check every column of it)."""
    from galzoo_cnn.cutouts import fetch_cutouts, read_manifest

    fetch_cutouts(table, directory, **options)
    return read_manifest(directory)


class CutoutServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, latency=0.0, stall=3.0, drip=0.2):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency, self.stall, self.drip = latency, stall, drip
        self.plan = defaultdict(list)
        self.requests = []
        self.queries = []  # every request's query parameters, in arrival order
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()

    def next_action(self, ra):
        with self.lock:
            actions = self.plan.get(ra)
            action = actions.pop(0) if actions else "ok"
            self.requests.append((ra, action))
        return action


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass

    def _stall_before_the_body(self, action):
        """Each read gets a byte in time, the headers never end: a status line and endless headers one
        byte at a time, or ``100 Continue`` forever (until the client hangs up)."""
        try:
            if action == "drip_headers":
                head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Padding-%d: x\r\n" % k for k in range(10_000))
                for k in range(len(head)):
                    self.wfile.write(head[k:k + 1])
                    self.wfile.flush()
                    time.sleep(self.server.drip)
            else:
                for _ in range(100_000):
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    self.wfile.flush()
                    time.sleep(self.server.drip)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path.endswith("/SkyServerWS/ImgCutout/getjpeg"):
            size = int(query["width"]), int(query["height"])
        elif url.path == "/jpeg-cutout":
            size = (int(query["size"]),) * 2
        elif url.path == "/hips2fits" and query.get("format") == "fits":
            size = int(query["width"]), int(query["height"])
        else:
            self.send_error(404, "unknown endpoint")
            return
        ra = query["ra"]
        with self.server.lock:
            self.server.queries.append(query)
        time.sleep(self.server.latency)
        action = self.server.next_action(ra)
        if action in ("500", "404"):
            self.send_error(int(action))
            return
        if action in ("429", "429date"):
            self.send_response(429)
            self.send_header("Retry-After", "1" if action == "429" else
                             email.utils.formatdate(time.time() + 2, usegmt=True))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if action in ("drip_headers", "continue_forever"):
            self._stall_before_the_body(action)
            return
        if action == "timeout":
            time.sleep(self.server.stall)
        index = int(float(ra) * 1000) % len(IMAGES)
        with Image.open(IMAGES[index]) as image:
            array = np.asarray(image.convert("RGB").resize(size, Image.Resampling.LANCZOS))
        if action == "blank":
            array = np.full_like(array, 12)
        if action == "small":
            array = array[: size[1] // 2]
        if isinstance(action, bytes):  # a planned answer, served as is
            body = action
        elif action == "garbage":
            body = b"<html>Server busy</html>"
        elif action == "bomb":
            body = bomb_png()
        elif url.path == "/hips2fits":
            body = _fits(array, query, blank=action == "blank")
        else:
            body = _jpeg(array)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if action == "drip":  # every read gets a byte in time; the whole body never does
                for k in range(len(body)):
                    self.wfile.write(body[k:k + 1])
                    self.wfile.flush()
                    time.sleep(self.server.drip)
            else:
                self.wfile.write(body[: len(body) // 2] if action == "truncated" else body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if action == "truncated":
            self.close_connection = True
