# Licensed under a 3-clause BSD style license - see LICENSE
"""Hostile image files, as an attacker or a damaged disk hands them over, each with the status it must get.

Each builder starts from a real SDSS cutout where a picture is needed, so the
files are the formats they claim inside (a real PPM, a real QOI...), damaged or
disguised the way the second hostile-input probe found them to escape.
"""

import io
import os
import stat
import struct
import zlib

import numpy as np
from PIL import EpsImagePlugin, Image

#: A minimal Encapsulated PostScript file: Pillow's EPS reader hands such a file to Ghostscript.
EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n%%EndComments\n"
       b"newpath 10 10 moveto 90 90 lineto stroke showpage\n%%EOF\n")


def install_ghostscript_recorder(directory, monkeypatch):
    """Put a ``gs`` first on PATH that records each call in ``directory / 'gs_calls.log'`` (returned):
    Pillow's EPS reader would start it.  It answers ``--version`` as Ghostscript would, so that Pillow
    goes on to run it on a file."""
    bin_dir, log = directory / "bin", directory / "gs_calls.log"
    bin_dir.mkdir()
    recorder = bin_dir / "gs"
    recorder.write_text(f"#!/bin/sh\necho \"$@\" >> '{log}'\n"
                        "if [ \"$1\" = --version ]; then echo 10.0; exit 0; fi\nexit 1\n")
    recorder.chmod(recorder.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)  # Pillow looks gs up again, finding the recorder
    return log


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_with_chunk(array, kind, data, *, after_image=False):
    """A valid PNG of ``array`` with one extra chunk before (or after) its image data."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    png = buffer.getvalue()
    ihdr_end = 8 + 25  # signature, then the 13-byte IHDR chunk with its length, type and CRC
    at = png.rindex(b"IEND") - 4 if after_image else ihdr_end
    return png[:at] + _png_chunk(kind, data) + png[at:]


def _saved(array, kind, **options):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, kind, **options)
    return buffer.getvalue()


def hostile_files(array):
    """``{file name: (bytes, status)}``: every hostile kind of the probe, built from the RGB ``array``.

    The statuses are those `~galzoo_cnn.classify.classify_table` must give the
    row (``undecodable`` for any file that is not a JPEG or PNG, whatever its
    name; ``too_large`` for compressed chunks that inflate past Pillow's limit).
    """
    inflating = zlib.compress(b"\0" * (8 * 2**20), 9)  # 8 MiB of zeros in ~8 kB: over MAX_TEXT_CHUNK (1 MiB)
    jpeg = _saved(array, "JPEG", quality=90)
    files = {
        "evil_eps.jpg": (EPS, "undecodable"),
        "text_bomb_head.png": (_png_with_chunk(array, b"zTXt", b"comment\0\0" + inflating), "too_large"),
        "text_bomb_tail.png": (_png_with_chunk(array, b"zTXt", b"comment\0\0" + inflating, after_image=True),
                               "too_large"),
        "icc_bomb.png": (_png_with_chunk(array, b"iCCP", b"sRGB\0\0" + inflating), "too_large"),
        "truncated.jpg": (jpeg[: len(jpeg) // 3], "undecodable"),
        "header_only.png": (_saved(array, "PNG")[:40], "undecodable"),
        "html_error.jpg": (b"<html><body>502 Bad Gateway</body></html>", "undecodable"),
        "empty.jpg": (b"", "undecodable"),
    }
    for kind, suffix in (("PPM", "ppm"), ("DDS", "dds"), ("QOI", "qoi"), ("TIFF", "tif"), ("BMP", "bmp"),
                         ("GIF", "gif")):
        whole = _saved(array if kind != "DDS" else np.ascontiguousarray(array[:96, :96]), kind)
        files[f"fuzzed_{suffix}.jpg"] = (whole[: len(whole) // 2], "undecodable")  # cut halfway
        files[f"whole_{suffix}.jpg"] = (whole, "undecodable")  # valid, but not a format galzoo_cnn reads
    corrupt = bytearray(_saved(array, "PPM"))
    corrupt[3:12] = b"9" * 9  # a header token far longer than the data: "Token too long" in Pillow
    files["bad_header.ppm"] = (bytes(corrupt), "undecodable")
    return files
