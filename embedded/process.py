"""A server process the stack starts, finds again by its pid file, and stops with its children."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class StackError(RuntimeError):
    """A stack operation failed for a reason the user can fix; the message says how."""


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_get(host: str, port: int, path: str = "/") -> tuple[int, str] | None:
    """``(status, body)`` of ``GET http://host:port/path``, or None when nothing answers within 2 s."""
    if not port_accepts(host, port):
        return None
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    except OSError:
        return None
    finally:
        conn.close()


def tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class ServerProcess:
    """One server: how to run it, how to tell it is ready, and where its pid and log are.

    It runs in a session of its own, so stopping it signals its whole process group and leaves no
    orphan behind. A pid file whose process is gone, or belongs to another program, is stale.
    """

    name: str
    command: list[str]
    host: str
    port: int
    port_env: str
    run_dir: Path
    is_ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    cwd: Path | None = None

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The running server's pid, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ValueError, ProcessLookupError):
            self.pid_file.unlink(missing_ok=True)
            return None
        if Path(self.command[0]).name not in cmdline:
            self.pid_file.unlink(missing_ok=True)
            return None
        return pid

    def start(self, timeout: float = 60.0) -> str:
        """Start the server unless it runs already; return once it is ready."""
        if self.pid() is not None:
            if self.is_ready():
                return f"{self.name}: already running on {self.host}:{self.port}"
            self.stop()
        if not Path(self.command[0]).exists():
            raise StackError(f"{self.name}: {self.command[0]} not found. Run `make install` first.")
        if not port_is_free(self.host, self.port):
            raise StackError(
                f"{self.name}: port {self.port} on {self.host} is already taken by another program. "
                f"Stop that program or choose another port: export {self.port_env}=<free port>."
            )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **self.env},
                user=self.user,
                group=self.user,
                extra_groups=[] if self.user else None,
                cwd=self.cwd,
            )
        self.pid_file.write_text(str(proc.pid))
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise StackError(f"{self.name} exited with code {proc.returncode}:\n{tail(self.log_file)}")
            if self.is_ready():
                return f"{self.name}: ready on {self.host}:{self.port} ({time.monotonic() - started:.1f} s)"
            time.sleep(0.2)
        self.stop()
        raise StackError(f"{self.name} was not ready after {timeout:.0f} s:\n{tail(self.log_file)}")

    def stop(self, timeout: float = 20.0) -> str:
        """Stop the server's process group: its signal first, SIGKILL if it does not exit."""
        pid = self.pid()
        if pid is None:
            return f"{self.name}: not running"
        for sig, wait in ((self.stop_signal, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if not _alive(pid):
                break
        self.pid_file.unlink(missing_ok=True)
        return f"{self.name}: stopped"

    def status(self) -> str:
        pid = self.pid()
        if pid is None:
            return f"{self.name}: stopped"
        state = "ready" if self.is_ready() else "NOT READY"
        return f"{self.name}: running (pid {pid}) on {self.host}:{self.port}, {state}; log {self.log_file}"


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
