"""Processes around an external upstream: killing the runner, even with SIGKILL, leaves no upstream process alive;
SIGTERM interrupts a command like Ctrl-C (the message says a rerun resumes, no traceback, staging removed)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = textwrap.dedent("""
    import os, sys, time
    open(sys.argv[1], "w").write(str(os.getpid()))
    time.sleep(120)
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie has ended: only its entry waits for its parent
        return fh.read().split()[2] != "Z"


def wait_for(predicate, timeout: float = 30.0) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_kill_9_of_the_runner_leaves_no_upstream_process(tmp_path):
    (tmp_path / "upstream.py").write_text(UPSTREAM)
    pid_file = tmp_path / "upstream.pid"
    runner = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from baselines.external import run_logged
        with open({str(tmp_path / 'log')!r}, "w") as log:
            run_logged([sys.executable, "upstream.py", {str(pid_file)!r}], cwd=Path({str(tmp_path)!r}),
                       env=dict(__import__("os").environ), log=log, what="standin")
    """)
    proc = subprocess.Popen([sys.executable, "-c", runner], cwd=ROOT)
    try:
        assert wait_for(pid_file.exists), "the stand-in upstream did not start"
        upstream = int(pid_file.read_text())
        assert alive(upstream)
        proc.kill()  # SIGKILL: the runner can end nothing itself
        proc.wait(10)
        assert wait_for(lambda: not alive(upstream), 10), f"upstream {upstream} outlived the runner"
    finally:
        proc.kill()


def test_sigterm_interrupts_a_command_cleanly(tmp_path):
    """A command restoring a container set (inputs staged as PNG under ``<out>/_inputs``) with a slow method:
    SIGTERM prints the interrupted line and exits 130, no traceback, and the staging folder is gone."""
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        import baselines
        import baselines.methods.input as m
        from baselines.base import RestoreConfig
        from benchmarks.datasets import Sample
        from ypt.cli import entry_point

        frame = {str(tmp_path / 'frame.npy')!r}
        np.save(frame, np.zeros((8, 8, 3), np.uint8))  # a container input: staged as PNG before the run

        def slow_run(self, samples, out_dir, config, report):
            assert (out_dir / "_inputs").is_dir()
            open({str(tmp_path / 'started')!r}, "w").write("x")
            time.sleep(60)

        m.InputMethod.run = slow_run

        @entry_point
        def main(argv=None):
            baselines.get("input").restore([Sample("a", frame, None, ("haze",), "image", "set")],
                                           {str(tmp_path / 'out')!r}, RestoreConfig(progress=False))
            return 0

        sys.exit(main())
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert wait_for((tmp_path / "started").exists, 60), proc.stderr.read() if proc.poll() is not None else ""
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, out + err
    assert "interrupted; rerun the same command to resume" in err and "Traceback" not in err
    assert (tmp_path / "out").is_dir() and not (tmp_path / "out" / "_inputs").exists()
