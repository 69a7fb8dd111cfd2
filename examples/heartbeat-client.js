#!/usr/bin/env node
// Send one heartbeat to heartbeat-monitor (Node ≥ 18, no dependencies), or wrap a command.
//
//   HEARTBEAT_URL=https://monitor.example.com SERVICE_ID=nightly-backup API_KEY=... \
//     node heartbeat-client.js                  # status "up" (or $STATUS), message $MESSAGE
//   node heartbeat-client.js -- pg_dump mydb    # "up" on exit 0, else "down" with the exit code
//                                               # and the tail of the output
//
// Retries transient failures (network errors, 429, 5xx) with backoff; exits non-zero with a
// readable message on stderr when the heartbeat could not be delivered.
"use strict";
const { spawnSync } = require("node:child_process");

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`heartbeat-client: set ${name}`);
    process.exit(2);
  }
  return value;
}

async function main(argv) {
  const url = env("HEARTBEAT_URL");
  const service = env("SERVICE_ID");
  const key = env("API_KEY");
  let status = process.env.STATUS || "up";
  let message = process.env.MESSAGE || "";
  let exitCode = 0;
  if (argv[0] === "--") {
    const [command, ...args] = argv.slice(1);
    const run = spawnSync(command, args, { encoding: "utf8" });
    process.stdout.write(run.stdout || "");
    process.stderr.write(run.stderr || "");
    exitCode = run.status === null ? 1 : run.status;
    if (exitCode === 0) {
      status = "up";
      message = message || `${command} succeeded`;
    } else {
      const tail = ((run.stdout || "") + (run.stderr || "")).slice(-600);
      status = "down";
      message = `${command} failed with exit code ${exitCode}: ${tail}`;
    }
  }
  const body = JSON.stringify({ serviceId: service, status, message });
  const attempts = Number(process.env.ATTEMPTS || 4);
  let delay = 1000;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let code = 0;
    let detail = "";
    try {
      const res = await fetch(url.replace(/\/$/, "") + "/api/heartbeat", {
        method: "POST",
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        body,
        signal: AbortSignal.timeout(15000),
      });
      if (res.ok) return exitCode;
      code = res.status;
      detail = await res.text();
    } catch (e) {
      detail = String(e);
    }
    const transient = code === 0 || code === 408 || code === 429 || code >= 500;
    if (transient && attempt < attempts) {
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
      continue;
    }
    console.error(`heartbeat-client: heartbeat for ${service} not delivered (HTTP ${code}): ${detail}`);
    return 2;
  }
  return 2;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
