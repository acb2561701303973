"""A private nginx in front of Rasa replicas, for the cluster test.

Its own config, pid, logs and temp directories in the work directory; the top-level config
mirrors deploy/nginx.conf and includes the same deploy/nginx/proxy.conf: round robin for REST,
ip_hash (sticky) for socket.io.
"""

from __future__ import annotations

import os
import shutil
from typing import Optional, Sequence

from cramp_harness.processes import Process, Supervisor, free_port, http_ok
from cramp_harness.servers import ROOT

NGINX_PROXY_CONF = ROOT / "deploy" / "nginx" / "proxy.conf"
NGINX_LIMITS_CONF = ROOT / "deploy" / "nginx" / "limits.conf"


def start_nginx(
    procs: Supervisor,
    name: str,
    upstreams: Sequence[int],
    *,
    port: Optional[int] = None,
    timeout: float = 20,
) -> Process:
    """nginx on `port` proxying to Rasa on the `upstreams` ports; ready when "/" answers."""
    port = port or free_port()
    root = procs.workdir / name
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / "temp" / sub).mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstreams)
    conf = root / "nginx.conf"
    conf.write_text(
        NGINX_LOCAL_TEMPLATE.format(
            user="user root;" if os.geteuid() == 0 else "",
            root=root,
            port=port,
            servers=servers,
            proxy_conf=NGINX_PROXY_CONF,
            limits_conf=NGINX_LIMITS_CONF,
        )
    )
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    return procs.start(
        name,
        [nginx_bin, "-p", root, "-e", root / "error.log", "-c", conf, "-g", "daemon off;"],
        ready=http_ok(f"http://127.0.0.1:{port}/"),
        timeout=timeout,
        port=port,
    )


NGINX_LOCAL_TEMPLATE = """# by cramp_harness/nginx.py: deploy/nginx.conf with local upstreams
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/temp/client_body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # the flood limits of production; the cluster test plays all its users from 127.0.0.1
    geo $cramps_limit_exempt {{ default 0; 127.0.0.1 1; }}
    include {limits_conf};
    # REST: round robin, so consecutive turns of one conversation land on different replicas
    upstream rasa_rest {{
{servers}
    }}
    # socket.io: sticky by client address (the socket.io channel keeps per-connection state)
    upstream rasa_socketio {{
        ip_hash;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        # which replica answered (read by the cluster test; not in the production config)
        add_header X-Upstream $upstream_addr always;
        include {proxy_conf};
    }}
}}
"""
