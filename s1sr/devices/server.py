"""``s1sr serve-device``: expose a device adapter (by default a simulated DMC) over the remote wire protocol.

See :mod:`s1sr.devices.remote` for the protocol. The server handles one call at a
time, as a device does, and binds to loopback unless told otherwise.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from s1sr.devices.adapter import DeviceAdapter, DeviceError, DeviceTimeout
from s1sr.devices.commands import COMMANDS, DeviceCommand

#: Largest request body accepted (a command may carry a 10,240,000-character firmware image).
MAX_BODY_BYTES = 16 * 1024 * 1024


def make_server(adapter: DeviceAdapter, host: str, port: int) -> HTTPServer:
    """An HTTP server exposing ``adapter``; ``port`` 0 picks a free port (see ``server.server_port``)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "s1sr-device/1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the harness reports, not the device

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any] | None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(400, {"error": {"kind": "bad-request", "message": "body too large"}})
                return None
            try:
                body = json.loads(self.rfile.read(length).decode("utf-8") or "{}")
            except (UnicodeDecodeError, ValueError):
                self._send(400, {"error": {"kind": "bad-request", "message": "body is not JSON"}})
                return None
            if not isinstance(body, dict):
                self._send(400, {"error": {"kind": "bad-request", "message": "body is not a JSON object"}})
                return None
            return body

        def do_GET(self) -> None:
            try:
                if self.path == "/v1/devices":
                    self._send(200, {"devices": [asdict(d) for d in adapter.devices()]})
                elif self.path == "/v1/snapshot":
                    self._send(200, {"snapshot": adapter.snapshot()})
                else:
                    self._send(404, {"error": {"kind": "bad-request", "message": f"no {self.path}"}})
            except DeviceError as exc:
                self._send(502, {"error": {"kind": "fault", "message": str(exc)}})

        def do_POST(self) -> None:
            body = self._body()
            if body is None:
                return
            try:
                if self.path == "/v1/reset":
                    adapter.reset()
                    self._send(200, {})
                elif self.path == "/v1/execute":
                    self._execute(body)
                else:
                    self._send(404, {"error": {"kind": "bad-request", "message": f"no {self.path}"}})
            except DeviceTimeout as exc:
                self._send(504, {"error": {"kind": "timeout", "message": str(exc)}})
            except DeviceError as exc:
                self._send(502, {"error": {"kind": "fault", "message": str(exc)}})

        def _execute(self, body: dict[str, Any]) -> None:
            raw = body.get("command")
            if not isinstance(raw, dict) or raw.get("name") not in COMMANDS or not isinstance(raw.get("fields"), dict):
                self._send(400, {"error": {"kind": "bad-request", "message": "not a device command"}})
                return
            command = DeviceCommand(
                raw["name"], str(raw.get("device_id", "")), raw["fields"], raw.get("defaults") or {}
            )
            timeout = body.get("timeout_s", 30.0)
            reply = adapter.execute(command, float(timeout) if isinstance(timeout, int | float) else 30.0)
            self._send(200, {"reply": reply.as_dict()})

    return HTTPServer((host, port), Handler)
