"""Servers the browser tests start (Voilà, JupyterLab): stopped with everything they started."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server started in its own process group, and its kernels: SIGTERM, then SIGKILL."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
