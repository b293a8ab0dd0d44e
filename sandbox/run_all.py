"""``make run``: migrate, then start the sandbox, web, worker and beat; Ctrl-C stops them all.

Everything runs on the embedded defaults (config/settings/local.py): SQLite under var/, the
file-based Celery broker (or Redis when REDIS_URL is set), and the three provider simulators.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB_PORT = int(os.environ.get("WEB_PORT", "8000"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8010"))


def _wait_http(url: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    return False


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    web_url = f"http://127.0.0.1:{WEB_PORT}"
    sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
    env.setdefault("PUBLIC_BASE_URL", web_url)
    env.setdefault("SANDBOX_BASE", sandbox_url)
    # kombu's filesystem broker (used when REDIS_URL is unset) needs its folders to exist.
    for folder in ("broker", "broker-processed", "broker-control"):
        (ROOT / "var" / folder).mkdir(parents=True, exist_ok=True)
    py = sys.executable

    print("→ Applying migrations…", flush=True)
    subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    seed = ROOT / "connector" / "management" / "commands" / "seed_demo.py"
    if seed.exists():
        subprocess.run([py, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True)

    commands = {
        "sandbox": [py, "-m", "sandbox", "--port", str(SANDBOX_PORT), "--connector-url", web_url],
        "web": [py, "manage.py", "runserver", f"127.0.0.1:{WEB_PORT}", "--noreload"],
        "worker": [py, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2"],
        "beat": [
            py, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", str(ROOT / "var" / "celerybeat-schedule"),
        ],
    }  # fmt: skip
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def _on_sigterm(*_: object) -> None:  # stop the children too, as Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        for name, cmd in commands.items():
            procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=env)
            if name == "sandbox" and not _wait_http(f"{sandbox_url}/_sim"):
                print("The sandbox did not start; is port", SANDBOX_PORT, "free?", file=sys.stderr)
                return 1
        if not _wait_http(f"{web_url}/healthz"):
            print("The web server did not become healthy; see the logs above.", file=sys.stderr)
            return 1
        print(
            "\n"
            "══════════════════════════════════════════════════════════════════════\n"
            f"  Qonto Connector is running:     {web_url}/\n"
            f"  Health:                         {web_url}/healthz\n"
            f"  Sandbox HubSpot (demo deals):   {sandbox_url}/hubspot-app/\n"
            f"  Sandbox Qonto (invoices):       {sandbox_url}/qonto/app\n"
            f"  Admin:                          {web_url}/admin/  (demo-admin / demo-admin-password)\n"
            "  Ctrl-C stops everything.\n"
            "══════════════════════════════════════════════════════════════════════\n",
            flush=True,
        )
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} stopped (exit {proc.returncode}); stopping the rest.", file=sys.stderr)
                    return proc.returncode or 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
