# Licensed under a 3-clause BSD style license - see LICENSE
"""Signals stop a run cleanly: Ctrl-C and SIGTERM under fetch, classify and training, with decoding
workers and several processes, leave finished work in place, no half-written file, no process
behind, and a rerun resumes."""

import os
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from astropy.table import Table

from galzoo_cnn.datasets import load_demo_sample, load_gz2_sample
from galzoo_cnn.exceptions import InputError
from galzoo_cnn.tests.cutout_server import CutoutServer, fetch_manifest
from galzoo_cnn.utils._lightning import usable_cores

#: DDP on CPU and decoding workers need cores of their own (conf.max_cpu_processes).
TWO_CORES = pytest.mark.skipif(usable_cores() < 2, reason="needs two usable CPU cores")
FAST = dict(retries=3, backoff=0.05, timeout=1.0, progress=False)
ENV = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")


def _targets(n):
    return load_gz2_sample(layout="hart2016")["dr7objid", "ra", "dec"][:n]


def _ra_key(value):
    return repr(float(value))


def _wait_for(process, condition, timeout=120, what=""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"the run ended (status {process.returncode}) before {what}: "
                                 f"{process.stderr.read()[-2000:]}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"timed out waiting for {what}")


def _stopped(process, timeout):
    start = time.time()
    process.wait(timeout=timeout)
    return time.time() - start, process.stderr.read()


def test_sigint_stops_fetch_and_the_rerun_resumes(tmp_path):
    targets = _targets(60)
    targets.write(tmp_path / "targets.ecsv")
    out = tmp_path / "cutouts"
    with CutoutServer(latency=0.15) as server:
        command = [sys.executable, "-m", "galzoo_cnn.cli", "fetch", str(tmp_path / "targets.ecsv"),
                   "--image-dir", str(out), "--base-url", server.url, "--max-workers", "2", "--no-progress"]
        with subprocess.Popen(command, env=ENV, stderr=subprocess.PIPE, text=True) as process:
            _wait_for(process, lambda: len(list(out.glob("*.jpg"))) >= 5, what="5 cutouts")
            process.send_signal(signal.SIGINT)
            elapsed, err = _stopped(process, 20)
        assert process.returncode == 128 + signal.SIGINT, err
        assert "interrupted by SIGINT" in err and "Traceback" not in err
        assert elapsed < 5  # the queued requests were abandoned, not waited for
        done = {p.name for p in out.glob("*.jpg")}
        assert 5 <= len(done) < 60 and not list(out.glob(".*.galzoo-part"))
        manifest = fetch_manifest(tmp_path / "targets.ecsv", out, base_url=server.url, **FAST)
    assert manifest.meta["counts"]["cached"] == len(done)
    assert manifest.meta["counts"]["ok"] == 60 - len(done)


def test_sigterm_stops_fetch_while_a_request_waits_for_headers(tmp_path):
    targets = _targets(3)
    targets.write(tmp_path / "targets.ecsv")
    with CutoutServer(drip=0.25) as server:
        for ra in targets["ra"]:
            server.plan[_ra_key(ra)] = ["drip_headers"] * 5
        process = subprocess.Popen(
            [sys.executable, "-m", "galzoo_cnn.cli", "fetch", str(tmp_path / "targets.ecsv"), "--image-dir",
             str(tmp_path / "cutouts"), "--base-url", server.url, "--timeout", "5", "--deadline", "120",
             "--no-progress"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(process, lambda: len(server.requests) >= 3, timeout=60, what="three requests in flight")
        time.sleep(1.0)
        start = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        stopped_in = time.perf_counter() - start
    assert process.returncode == 128 + signal.SIGTERM, err
    assert stopped_in < 5, f"stopped {stopped_in:.1f} s after SIGTERM"
    assert "Traceback" not in err and not list((tmp_path / "cutouts").glob(".*.galzoo-part"))


def _stream_until(process, text, timeout=180):
    """Read the process's stdout until ``text`` appears (progress bars end lines with \\r)."""
    seen, deadline = "", time.time() + timeout
    while text not in seen:
        if time.time() > deadline or process.poll() is not None:
            raise AssertionError(f"no {text!r} in the output: {seen[-2000:]}")
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            seen += os.read(process.stdout.fileno(), 4096).decode(errors="replace")
    return seen


def test_ctrl_c_in_python_raises_interrupted_and_restores_the_handlers(tmp_path):
    """In a script or notebook, Ctrl-C during classify_table raises Interrupted (Lightning alone would
    call sys.exit and leave SIGINT ignored), and the signal handlers are restored to those the process
    had (Python's default; SIG_IGN where a shell started it in the background)."""
    sample, image_dir = load_demo_sample()
    script = f"""
import signal, sys
import numpy as np
from astropy.table import Table
from galzoo_cnn import classify_table
from galzoo_cnn.exceptions import Interrupted
names = {list(sample["filename"])!r}
rows = Table({{"filename": np.resize(np.asarray(names), 6000)}})
initial = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN when started in the background
print("ready", flush=True)
try:
    classify_table(rows, image_dir={str(image_dir)!r}, progress=False, batch_size=16, device="cpu")
except Interrupted as err:
    handler = signal.getsignal(signal.SIGINT)
    print("caught", err, handler is initial, repr(handler), flush=True)
    sys.exit(3)
"""
    with subprocess.Popen([sys.executable, "-c", script], env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        _stream_until(process, "ready")
        time.sleep(5)  # the model is loaded and the batches are running
        process.send_signal(signal.SIGINT)
        elapsed, err = _stopped(process, 60)
        out = process.stdout.read()
    assert process.returncode == 3, err[-2000:]
    assert "caught interrupted by SIGINT True" in out and elapsed < 20


def test_sigterm_stops_classify_and_writes_no_catalogue(tmp_path):
    sample, image_dir = load_demo_sample()
    rows = Table({"filename": np.resize(np.asarray(sample["filename"]), 3000), "ra": np.full(3000, 150.0),
                  "dec": np.full(3000, 2.0)})
    rows.write(tmp_path / "in.ecsv")
    command = [sys.executable, "-m", "galzoo_cnn.cli", "classify", str(tmp_path / "in.ecsv"), "--image-dir",
               str(image_dir), "-o", str(tmp_path / "cat"), "--device", "cpu", "--batch-size", "16"]
    with subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        _stream_until(process, "classifying:")
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        elapsed, err = _stopped(process, 60)
    assert process.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    assert elapsed < 20
    assert not list(tmp_path.glob("cat*")) and not list(tmp_path.glob(".*"))  # no catalogue, no debris


def test_sigterm_stops_training_and_keeps_the_last_epoch(gz1_images, tmp_path):
    _, directory = gz1_images
    config = tmp_path / "tiny.yaml"
    config.write_text(f"""
table: {directory / 'labels.csv'}
image_dir: {directory}
output: {tmp_path / 'run'}
name: tiny
backbone: test_resnet
label_column: gz1_class
classes: [elliptical, spiral, edge_on, merger]
class_map: {{spiral_clockwise: spiral, spiral_anticlockwise: spiral, dont_know: null}}
test_fraction: 0.25
val_fraction: 0.34
epochs: 500
batch_size: 4
""")
    command = [sys.executable, "-m", "galzoo_cnn.cli", "train", "--config", str(config), "--no-progress"]
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    with subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True) as process:
        _wait_for(process, last.exists, what="the first epoch's checkpoint")
        process.send_signal(signal.SIGTERM)
        elapsed, err = _stopped(process, 60)
    assert process.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "interrupted by SIGTERM" in err and "Traceback" not in err
    assert elapsed < 20 and last.exists()  # the resumable state is kept
    assert not (tmp_path / "run" / "tiny.json").exists()  # no model card for an unfinished run



def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _group_run(command, cwd):
    """A command in a session of its own: signals can go to its whole process group, as a terminal's do.
    SIGINT is reset to its default: a shell that started the tests in the background left it ignored,
    and Python keeps an inherited SIG_IGN."""
    return subprocess.Popen(command, env=ENV, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=_default_sigint)


def _group_gone(pgid, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def _many_rows(tmp_path, n=3000):
    sample, image_dir = load_demo_sample()
    rows = Table({"filename": np.resize(np.asarray(sample["filename"]), n), "ra": np.full(n, 150.0),
                  "dec": np.full(n, 2.0)})
    rows.write(tmp_path / "in.ecsv")
    return [sys.executable, "-m", "galzoo_cnn.cli", "classify", str(tmp_path / "in.ecsv"), "--image-dir",
            str(image_dir), "-o", str(tmp_path / "cat"), "--device", "cpu", "--batch-size", "16"]


@TWO_CORES
def test_ctrl_c_twice_to_the_group_with_workers_stops_cleanly(tmp_path):
    process = _group_run(_many_rows(tmp_path) + ["--num-workers", "2"], tmp_path)
    _stream_until(process, "classifying:")
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGINT)
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)  # the impatient second Ctrl-C, during the clean-up
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGINT, err[-2000:]
    assert "Traceback" not in err and err.count("interrupted by SIGINT") == 1, err[-2000:]
    assert _group_gone(process.pid), "worker processes outlived the run"
    assert not list(tmp_path.glob("cat*")) and not list(tmp_path.glob(".*"))


@TWO_CORES
def test_sigterm_to_the_parent_of_a_two_process_run_leaves_no_process(tmp_path):
    process = _group_run(_many_rows(tmp_path, 6000) + ["--devices", "2", "--strategy", "ddp"], tmp_path)
    _stream_until(process, "classifying:")
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)  # the parent only, as a batch scheduler or `kill` does
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert _group_gone(process.pid), "a DDP process outlived its parent"
    assert not list(tmp_path.glob("cat*"))


def test_ctrl_c_at_any_moment_of_training_start_up_writes_no_model_card(gz1_images, tmp_path):
    _, directory = gz1_images
    config = tmp_path / "tiny.yaml"
    config.write_text(f"table: {directory / 'labels.csv'}\nimage_dir: {directory}\n"
                      f"output: {tmp_path / 'run'}\nname: tiny\nbackbone: test_resnet\n"
                      "label_column: gz1_class\n"
                      "classes: [elliptical, spiral, edge_on, merger]\n"
                      "class_map: {spiral_clockwise: spiral, spiral_anticlockwise: spiral, dont_know: null}\n"
                      "test_fraction: 0.25\nval_fraction: 0.34\nepochs: 500\nbatch_size: 4\n")
    # the galzoo-cnn program (its entry point is __main__.console_main): a Ctrl-C while its modules load too
    command = [sys.executable, "-m", "galzoo_cnn", "train", "--config", str(config), "--no-progress"]
    for delay in (0.2, 0.5, 2.0, 4.0, 7.0):
        process = _group_run(command, tmp_path)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 128 + signal.SIGINT, (delay, err[-2000:])
        assert "Traceback" not in err, (delay, err[-2000:])
        assert not list((tmp_path / "run").glob("tiny.*")), f"a model card after a Ctrl-C at {delay} s"


def test_more_workers_than_cores_are_lowered_with_a_message(caplog):
    from astropy import log

    from galzoo_cnn.utils._lightning import check_workers

    with log.log_to_list() as messages:
        assert check_workers(usable_cores() + 97) == usable_cores()
    assert any("lowered to" in m.getMessage() for m in messages)
    with pytest.raises(InputError, match="num_workers=-1 must be an integer >= 0"):
        check_workers(-1)


_SHARER_LOSES_ITS_PEER = """
import os, sys, time
from multiprocessing import connection, process, resource_sharer
from galzoo_cnn.utils._signals import quiet_worker
if sys.argv[1] == "worker":
    quiet_worker()
_, fd = os.pipe()
handle = resource_sharer.DupFd(fd)  # starts the sharer's thread, as a DataLoader worker handing a batch
address, _ = handle._id
connection.Client(address, authkey=process.current_process().authkey).close()  # the main process stopped
time.sleep(0.5)
"""


@pytest.mark.parametrize("role", ["plain", "worker"])
def test_a_worker_says_nothing_when_the_main_process_stops_mid_hand_over(role):
    """multiprocessing's resource sharer reports its thread's errors through sys.excepthook; a worker
    whose main process stopped (a second Ctrl-C) printed an EOFError traceback from it."""
    run = subprocess.run([sys.executable, "-c", _SHARER_LOSES_ITS_PEER, role], capture_output=True, text=True,
                         timeout=60, env=ENV)
    assert run.returncode == 0
    if role == "plain":  # what the sharer does by itself: the failure this guards against is real
        assert "Traceback" in run.stderr and "EOFError" in run.stderr
    else:
        assert run.stderr == ""


_SIGNAL_DURING_AN_IMPORT = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from galzoo_cnn.exceptions import Interrupted
from galzoo_cnn.utils._signals import interruptible
try:
    with interruptible():
        import slow_to_import  # Ctrl-C arrives in the middle of it, as in torch's seconds-long import
        print("after the import", slow_to_import.COMPLETE, flush=True)
        signal.pause()  # the held signal is sent again: it stops the run here
except Interrupted as err:
    print("stopped:", err)
"""

_SLOW_MODULE = """
import os, signal, time
os.kill(os.getpid(), signal.SIGINT)
time.sleep(0.3)  # the handler runs during the import

class Field:
    def __set_name__(self, owner, name):  # code Python runs from C: an exception here becomes another
        time.sleep(0.05)

class Owner:
    field = Field()

COMPLETE = True
"""


_RUN_AT_IMPORT = """
import os, signal, time
from galzoo_cnn.exceptions import Interrupted
from galzoo_cnn.utils._signals import interruptible
try:
    with interruptible():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    print("not stopped", flush=True)
except Interrupted as err:
    print("stopped:", err, flush=True)
"""


def test_a_run_that_is_itself_inside_an_import_still_stops_at_once(tmp_path):
    """A script whose import runs the whole job (``import my_analysis``): its imports were under way before
    the run began, so a Ctrl-C stops it at once instead of waiting for the import to end."""
    (tmp_path / "my_analysis.py").write_text(_RUN_AT_IMPORT)
    code = f"import sys, time; sys.path.insert(0, {str(tmp_path)!r}); start = time.time(); " \
           f"import my_analysis; print(round(time.time() - start) < 3)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=ENV)
    assert run.stdout.splitlines() == ["stopped: interrupted by SIGINT", "True"], run.stderr


def test_ctrl_c_during_an_import_stops_the_run_once_the_import_is_over(tmp_path):
    """Raised inside an import, the stop became a RuntimeError (torch's class definitions), a SIGABRT from
    C++, or was swallowed; it is held until the import is over."""
    (tmp_path / "slow_to_import.py").write_text(_SLOW_MODULE)
    run = subprocess.run([sys.executable, "-c", _SIGNAL_DURING_AN_IMPORT, str(tmp_path)], capture_output=True,
                         text=True, timeout=60, env=ENV)
    assert run.stdout.splitlines() == ["after the import True", "stopped: interrupted by SIGINT"], run.stderr
    assert run.returncode == 0 and "Traceback" not in run.stderr
