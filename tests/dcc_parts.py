"""A DUIS User's client made of DCC's own parts, for tests against ``s1sr serve-s1sp`` in DCC Boxed mode.

The parts: DCC's signing tool (``Sign`` as the DCC Boxed test User, ``Validate`` with its built-in key
store; tests/dcc_tool.py drives it), DCC's DUIS parser (npm ``@smartdcc/duis-parser``, read through
tests/dcc_client/parse.cjs) and, for the signature over a whole response that also carries a SMETS1
Response (which ``Validate`` passes unchecked), Validate's own steps on that signature
(tests/dcc_client/EnvelopeCheck.java, on the tool's JAR and key store). Around them only plumbing: an
HTTP POST, and :class:`ResponseInbox`, the User's response endpoint, which answers 204 as DCC Boxed's
clients do.

Where they are found: ``$S1SR_INTEROP_DIR`` (default ``.interop/``), into which CI runs ``npm install
--prefix .interop @smartdcc/duis-sign-wrap @smartdcc/dccboxed-keystore @smartdcc/duis-parser``; Java and
Node.js from PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.dcc_tool import JVM_OPTIONS, REPO, SECONDS_PER_DOCUMENT, SECONDS_PER_JVM, DccTool, find_tool

CLIENT = Path(__file__).resolve().parent / "dcc_client"
PARSER = "node_modules/@smartdcc/duis-parser/package.json"
SECONDS_PER_NODE = 30.0
_COUNTER = re.compile(rb"<sr:RequestID>[^<:]*:[^<:]*:(\d+)</sr:RequestID>")


@dataclass(frozen=True)
class DccParts:
    """DCC's signing tool (with its key store), and Node.js with DCC's DUIS parser installed for it."""

    tool: DccTool
    node: str
    node_modules: Path

    def parse(self, documents: Sequence[bytes]) -> list[dict[str, Any]]:
        """What DCC's ``duis-parser`` reads in each document (tests/dcc_client/parse.cjs), one dict each."""
        with tempfile.TemporaryDirectory(prefix="s1sr-duis-parser-") as name:
            files = _written(Path(name), documents)
            done = subprocess.run(
                [self.node, str(CLIENT / "parse.cjs"), *files],
                capture_output=True,
                timeout=SECONDS_PER_NODE + 0.1 * len(files),
                check=False,
                env={**os.environ, "NODE_PATH": str(self.node_modules)},
            )
            if done.returncode != 0:
                raise RuntimeError(f"duis-parser failed: {done.stderr.decode('utf-8', 'replace')[-2000:]}")
            views = [json.loads(line) for line in done.stdout.decode().splitlines()]
            if [view["file"] for view in views] != files:
                raise RuntimeError(f"duis-parser answered for {len(views)} of {len(files)} documents")
            return views

    def check_envelopes(self, documents: Sequence[bytes]) -> list[tuple[int, str]]:
        """Each message's own signature (its root's last child) checked by Validate's steps, DCC's key store.

        ``(code, reason)`` per document, code as the tool's: 0 valid, 2 error, 3 no certificate, 10 failed.
        """
        with tempfile.TemporaryDirectory(prefix="s1sr-dcc-envelope-") as name:
            files = _written(Path(name), documents)
            done = subprocess.run(
                [self.tool.java, *JVM_OPTIONS, "-cp", str(self.tool.jar), str(CLIENT / "EnvelopeCheck.java"), *files],
                capture_output=True,
                timeout=SECONDS_PER_JVM + SECONDS_PER_DOCUMENT * len(files),
                check=False,
            )
            lines = done.stdout.decode().splitlines()
            if done.returncode != 0 or len(lines) != len(files):
                raise RuntimeError(f"EnvelopeCheck failed: {done.stderr.decode('utf-8', 'replace')[-2000:]}")
            return [(int(code), reason) for code, reason in (line.split("\t", 1) for line in lines)]

    def sign_rising(self, documents: Sequence[bytes], attempts: int = 3) -> list[bytes]:
        """Each document signed by DCC's ``Sign`` (the key its originator has in DCC's key store), counters rising.

        The tool stamps each counter with the time in milliseconds; two documents signed within one
        millisecond would share one, so from the first that does not rise the rest are signed again
        in a new JVM (a later millisecond).
        """
        signed: list[bytes] = []
        for _ in range(attempts):
            results = self.tool.sign(documents[len(signed) :], preserve_counter=False)
            refused = [(n, r.code, r.log) for n, r in enumerate(results) if not r.ok]
            if refused:
                raise RuntimeError(f"DCC's Sign refused {len(refused)} documents, first: {refused[0]}")
            for result in results:
                if signed and counter_of(result.out) <= counter_of(signed[-1]):
                    break
                signed.append(result.out)
            if len(signed) == len(documents):
                return signed
        raise RuntimeError(f"DCC's Sign gave no rising counters in {attempts} attempts")


def counter_of(request: bytes) -> int:
    """The originator counter of a request's RequestID."""
    found = _COUNTER.search(request)
    if found is None:
        raise ValueError("no sr:RequestID with a counter")
    return int(found.group(1))


def _written(folder: Path, documents: Sequence[bytes]) -> list[str]:
    files = []
    for n, document in enumerate(documents):
        path = folder / f"{n}.xml"
        path.write_bytes(document)
        files.append(str(path))
    return files


def find_parts() -> DccParts | str:
    """DCC's parts if they are installed here, else the reason they cannot be used (one line, with the fix)."""
    tool = find_tool()
    if isinstance(tool, str):
        return tool
    root = Path(os.environ.get("S1SR_INTEROP_DIR", REPO / ".interop"))
    node = shutil.which("node")
    if node is None:
        return "no node on PATH (DCC's duis-parser is a Node.js package): install Node.js 16+ (nodejs)"
    if not (root / PARSER).is_file():
        return f"DCC's duis-parser is not in {root}: npm install --prefix {root} @smartdcc/duis-parser@0.6.0"
    return DccParts(tool, node, root / "node_modules")


# --- the User's response endpoint -------------------------------------------------------------------------


class ResponseInbox:
    """The User's response endpoint: takes ``POST``ed DUIS responses (application/xml) and answers 204.

    Bounded: a body of at most ``max_bytes``, each connection ``timeout_s``, at most ``max_messages``
    kept (then 503). Loopback only.
    """

    def __init__(self, path: str = "/duis/response", max_bytes: int = 1 << 20, max_messages: int = 256) -> None:
        self.path = path
        self.messages: list[bytes] = []
        self._arrived = threading.Condition()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10.0  # per connection: a sender that stalls is dropped

            def do_POST(self) -> None:
                length = self.headers.get("Content-Length", "")
                if self.path != inbox.path:
                    self._answer(404)
                elif self.headers.get_content_type() != "application/xml":
                    self._answer(415)
                elif not length.isdigit() or int(length) > max_bytes:
                    self._answer(413)
                else:
                    body = self.rfile.read(int(length))
                    with inbox._arrived:
                        kept = len(inbox.messages) < max_messages
                        if kept:
                            inbox.messages.append(body)
                            inbox._arrived.notify_all()
                    self._answer(204 if kept else 503)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where the endpoint is to deliver."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def __enter__(self) -> ResponseInbox:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout_s: float) -> list[bytes]:
        """The messages taken so far, once there are ``count`` or ``timeout_s`` has passed."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while len(self.messages) < count and (left := deadline - time.monotonic()) > 0:
                self._arrived.wait(left)
            return list(self.messages)
