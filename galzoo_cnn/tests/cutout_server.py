# Licensed under a 3-clause BSD style license - see LICENSE
"""A cutout service on 127.0.0.1 for the tests: both endpoints, real JPEGs, scripted faults.

It answers ``/dr<N>/SkyServerWS/ImgCutout/getjpeg?ra=&dec=&scale=&width=&height=`` (SDSS)
and ``/jpeg-cutout?ra=&dec=&layer=&pixscale=&size=`` (Legacy Surveys) with a real SDSS
cutout of the bundled test data, resampled to the requested size.  ``plan[ra]`` lists
what to do on successive requests for that ``ra`` (then ``ok``): ``ok``, ``500``,
``404``, ``429`` (``Retry-After: 1``), ``timeout`` (answers after ``stall`` seconds),
``truncated`` (closes after half the body promised by Content-Length), ``garbage``
(a body that is no image), ``blank`` (a constant image), ``small`` (wrong size).
"""

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


def _jpeg(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class CutoutServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, latency=0.0, stall=3.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency, self.stall = latency, stall
        self.plan = defaultdict(list)
        self.requests = []
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

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path.endswith("/SkyServerWS/ImgCutout/getjpeg"):
            size = int(query["width"]), int(query["height"])
        elif url.path == "/jpeg-cutout":
            size = (int(query["size"]),) * 2
        else:
            self.send_error(404, "unknown endpoint")
            return
        ra = query["ra"]
        time.sleep(self.server.latency)
        action = self.server.next_action(ra)
        if action in ("500", "404"):
            self.send_error(int(action))
            return
        if action == "429":
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
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
        body = b"<html>Server busy</html>" if action == "garbage" else _jpeg(array)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body[: len(body) // 2] if action == "truncated" else body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if action == "truncated":
            self.close_connection = True
