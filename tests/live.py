"""A live service under test, and real HTTP and WebSocket clients for it."""

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

from realtime.events import ENDING

EVENT_TIMEOUT = 60  # seconds an awaited event may take before the test fails


class LiveService:
    def __init__(self, base_url: str, process: subprocess.Popen, log: Path):
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://")
        self.process = process
        self.log = log

    def wait_until_up(self, timeout: float = 60) -> None:
        host, port = self.base_url.removeprefix("http://").split(":")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited: {self.log.read_text()[-3000:]}")
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"service not up after {timeout}s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def http(self, token: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60, **kwargs)

    def socket(self, *, token: str | None = None, path: str = "/ws/", **kwargs):
        url = f"{self.ws_url}{path}"
        if token:
            url += f"?access_token={token}"
        return connect(url, open_timeout=10, max_size=None, **kwargs)


def frames_until_ending(ws, job_id: str, timeout: float = EVENT_TIMEOUT) -> list[dict]:
    """Every event received on `ws`, whatever its job, up to and including `job_id`'s ending."""
    received = []
    deadline = time.monotonic() + timeout
    while True:
        event = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        received.append(event)
        if event["event"] == ENDING and event["data"]["uuid"] == job_id:
            return received


def job_events(ws, job_id: str, timeout: float = EVENT_TIMEOUT) -> list[dict]:
    """The events of one job received on `ws`, up to and including its `ending`."""
    return [e for e in frames_until_ending(ws, job_id, timeout) if e["data"]["uuid"] == job_id]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TcpRelay:
    """A TCP relay in front of a server, which a test cuts and restores like a network
    outage: cut, it drops every relayed connection, and closes each new one at once or,
    cut with `hold`, keeps it open without an answer (a host that has gone silent)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.refused = 0  # connections not relayed while cut
        self._cut: str | None = None  # None, "close" or "hold"
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def relayed(self) -> int:
        """Connections open through the relay."""
        with self._lock:
            return len(self._pairs)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                cut = self._cut
                if cut:
                    self.refused += 1
                    self._held += [client] if cut == "hold" else []
                else:
                    self._pairs.add(pair := (client, upstream))
            if cut:
                _close(upstream, *([] if cut == "hold" else [client]))
                continue
            for source, sink in (pair, pair[::-1]):
                threading.Thread(target=self._pump, args=(pair, source, sink), daemon=True).start()

    def _pump(self, pair, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            if pair not in self._pairs:
                return  # closed by a cut, or by the other direction's pump
            self._pairs.discard(pair)
        _close(*pair)

    def cut(self, *, hold: bool = False) -> None:
        with self._lock:
            self._cut = "hold" if hold else "close"
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            _close(*pair)

    def restore(self) -> None:
        """Relay again; connections held meanwhile stay silent, like ones lost on the way."""
        with self._lock:
            self._cut = None

    def close(self) -> None:
        _close(self._listener)  # wakes the blocked accept
        self.cut()
        with self._lock:
            held, self._held = self._held, []
        _close(*held)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked on it
        except OSError:
            pass
        sock.close()


class ServiceProcesses:
    """Daphne servers and workers started one by one, so a test can stop or kill each."""

    def __init__(self, tmp_path: Path, env: dict):
        self.env = env
        self.tmp_path = tmp_path
        self.children: list[subprocess.Popen] = []
        self.services: list[LiveService] = []

    def start(self, name: str, *args: str, env: dict | None = None) -> subprocess.Popen:
        root = Path(__file__).resolve().parent.parent
        with open(self.tmp_path / f"{name}.log", "ab") as out:
            child = subprocess.Popen(
                [sys.executable, *args], cwd=root, env=env or self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.children.append(child)
        return child

    def server(self, name: str, env: dict | None = None) -> LiveService:
        port = free_port()
        process = self.start(
            name, "-m", "contacts_project.server", "-b", "127.0.0.1", "-p", str(port), "contacts_project.asgi:application", env=env
        )
        service = LiveService(f"http://127.0.0.1:{port}", process, self.tmp_path / f"{name}.log")
        service.wait_until_up()
        self.services.append(service)
        return service

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(name, "manage.py", "bulk_worker", "--interval", "0.1")

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def wait_for(condition, what: str, timeout: float = EVENT_TIMEOUT):
    """Poll `condition` (a row changing, a process ending) until it is truthy, or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
