"""The peers the delivery benchmark is measured against: `rclone copy` of the same files from a
static web server (nginx, else Python's http.server), and the disk's own limit for durable
placement (8 threads doing write + fsync + rename)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

NGINX_CONF = """daemon off;
worker_processes 1;
user root;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {run}/tmp;
    proxy_temp_path {run}/tmp;
    fastcgi_temp_path {run}/tmp;
    uwsgi_temp_path {run}/tmp;
    scgi_temp_path {run}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        autoindex on;
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def thread_count(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise RuntimeError(f"no Threads for {pid}")


@dataclass(frozen=True)
class PeerResult:
    files_per_second: float
    seconds: float
    note: str


def static_server(root: Path, run: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """Serve `root` over HTTP with directory listings; returns (process, url, which server)."""
    port = free_port()
    nginx = shutil.which("nginx")
    if nginx:
        (run / "tmp").mkdir(parents=True, exist_ok=True)
        conf = run / "nginx.conf"
        conf.write_text(NGINX_CONF.format(run=run, port=port, root=root))
        process = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(run)], stderr=subprocess.DEVNULL
        )
        which = "nginx"
    else:
        process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        which = "python http.server"
    wait_for_port(port)
    return process, f"http://127.0.0.1:{port}/", which


def rclone_copy(url: str, dest: Path, count: int, transfers: int) -> PeerResult:
    rclone = shutil.which("rclone")
    if rclone is None:
        raise RuntimeError("rclone is not installed (Debian: apt-get install -y rclone)")
    env = {**os.environ, "RCLONE_CONFIG": "/dev/null"}
    started = time.perf_counter()
    subprocess.run(
        [rclone, "copy", ":http:", str(dest), "--http-url", url,
         "--transfers", str(transfers), "--checkers", str(2 * transfers), "-q"],
        env=env, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    copied = sum(1 for p in dest.rglob("*") if p.is_file())
    if copied != count:
        raise RuntimeError(f"rclone copied {copied} files of {count}")
    note = f"--transfers {transfers}, no fsync"
    return PeerResult(count / seconds, seconds, note)


def disk_limit(files: list[tuple[str, bytes]], dest: Path, threads: int = 8) -> PeerResult:
    """Durable placement with nothing else in the way: write aside, fsync, rename."""
    for folder in {Path(path).parent for path, _ in files}:
        (dest / folder).mkdir(parents=True, exist_ok=True)
    counter = iter(range(len(files)))
    lock = threading.Lock()

    def place(item: tuple[str, bytes]) -> None:
        path, data = item
        with lock:
            number = next(counter)
        temporary = dest / f".tmp-{number}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        temporary.rename(dest / path)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(place, files))
    seconds = time.perf_counter() - started
    return PeerResult(len(files) / seconds, seconds, f"{threads} threads, write+fsync+rename")
