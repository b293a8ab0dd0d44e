"""Run the sandbox in a background thread, for tests and benchmarks.

running = start_sandbox(SandboxConfig(port=0))
running.url                # "http://127.0.0.1:54321"
running.sandbox.providers["qonto"]   # the Python control API
running.stop()
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from sandbox.core import Sandbox, SandboxConfig
from sandbox.server import SandboxApp, base_urls, build_sandbox


@dataclasses.dataclass
class RunningSandbox:
    sandbox: Sandbox
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.sandbox.config.base_url

    @property
    def env(self) -> dict[str, str]:
        return base_urls(self.sandbox.config)

    def provider(self, name: str) -> Any:
        return self.sandbox.providers[name]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_sandbox(config: SandboxConfig | None = None) -> RunningSandbox:
    """Start on ``config.port`` (0 picks a free port, and the config is updated with it)."""
    config = config or SandboxConfig(port=0)
    sandbox = build_sandbox(config)
    server = make_server(config.host, config.port, SandboxApp(sandbox), threaded=True)
    config.port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, name="sandbox", daemon=True)
    thread.start()
    return RunningSandbox(sandbox=sandbox, server=server, thread=thread)
