#!/usr/bin/env python3
"""Send one heartbeat to heartbeat-monitor (standard library only), or wrap a command.

    HEARTBEAT_URL=https://monitor.example.com SERVICE_ID=nightly-backup API_KEY=... \\
        python3 heartbeat-client.py                 # status "up" (or $STATUS), message $MESSAGE
    python3 heartbeat-client.py -- pg_dump mydb     # "up" on exit 0, else "down" with the exit
                                                    # code and the tail of the output

Retries transient failures (network errors, 429, 5xx) with backoff; exits non-zero with a
readable message on stderr when the heartbeat could not be delivered.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"heartbeat-client: set {name}")
    return value


def main(argv):
    url, service, key = env("HEARTBEAT_URL"), env("SERVICE_ID"), env("API_KEY")
    status = os.environ.get("STATUS", "up")
    message = os.environ.get("MESSAGE", "")
    exit_code = 0
    if argv[:1] == ["--"]:
        command = argv[1:]
        run = subprocess.run(command, capture_output=True, text=True)
        sys.stdout.write(run.stdout)
        sys.stderr.write(run.stderr)
        exit_code = run.returncode
        if exit_code == 0:
            status, message = "up", message or f"{command[0]} succeeded"
        else:
            tail = (run.stdout + run.stderr)[-600:]
            status, message = "down", f"{command[0]} failed with exit code {exit_code}: {tail}"

    body = json.dumps({"serviceId": service, "status": status, "message": message}).encode()
    attempts = int(os.environ.get("ATTEMPTS", "4"))
    delay = 1
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            url.rstrip("/") + "/api/heartbeat",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=15):
                return exit_code
        except urllib.error.HTTPError as e:
            code, detail = e.code, e.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as e:
            code, detail = 0, str(e)
        transient = code in (0, 408, 429) or code >= 500
        if transient and attempt < attempts:
            time.sleep(delay)
            delay *= 2
            continue
        print(f"heartbeat-client: heartbeat for {service} not delivered (HTTP {code}): {detail}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
