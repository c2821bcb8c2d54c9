"""The HTTP server: waitress, a production-grade pure-Python WSGI server (no build, no C compiler).

Why not Flask's development server: it is single-purpose for debugging and says so;
the officers' app runs unattended beside the worker.
"""

from __future__ import annotations

from typing import Any

from waitress import create_server


def make_server(app: Any, host: str, port: int, threads: int = 8) -> Any:
    """A bound server (port 0 picks a free one; read it from ``.effective_port``); ``.run()`` serves."""
    # Forwarded headers reach the app, which believes them only from [web] trusted_proxies (app.is_https/client_ip).
    return create_server(app, host=host, port=port, threads=threads, ident="cru",
                         clear_untrusted_proxy_headers=False)
