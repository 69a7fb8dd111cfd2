// `wrangler dev --local` with no DevTools inspector attached, for the CPU benchmark.
//
// The CLI always attaches wrangler's inspector proxy to workerd, and workerd then copies every
// response body into a DevTools event (base64 inside JSON): about a third of the CPU of a 450 KB
// answer, which Cloudflare never spends. This starts the same local server the CLI starts
// (wrangler's `unstable_startWorker`, pinned by package-lock.json) with the inspector off.
//
// node dev-detached.mjs <wrangler.toml> <persist dir> <env file> <port>

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { unstable_startWorker } = require("wrangler");

const [config, persist, envFile, port] = process.argv.slice(2);
if (!port) {
  console.error("usage: dev-detached.mjs <wrangler.toml> <persist dir> <env file> <port>");
  process.exit(2);
}
const worker = await unstable_startWorker({
  config,
  envFiles: [envFile],
  dev: {
    remote: false,
    server: { hostname: "127.0.0.1", port: Number(port) },
    inspector: false,
    persist,
    testScheduled: true,
    watch: false,
  },
});
await worker.ready;
console.log(`Ready on ${await worker.url}`);
