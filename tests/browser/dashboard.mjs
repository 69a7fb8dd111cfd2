// Drives a real headless Chromium (Debian's, through playwright-core) against a running
// heartbeat-host. Started by tests/harness/tests/host/browser.rs, which seeds the services and
// passes:
//   HB_URL       base URL of the monitor
//   HB_OUT       directory for screenshots (CI keeps them as artifacts)
//   HB_DOWN_ID   a service that is up; this script beats it (up) and later reports it down
//   HB_DOWN_KEY  that service's API key
//   HB_DETAIL_ID a service with notification deliveries
//   HB_HOSTILE   the hostile string used as a service name, message and metadata
// Exits non-zero with a readable message on the first failed check.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env("HB_URL");
const out = env("HB_OUT");
const downId = env("HB_DOWN_ID");
const downKey = env("HB_DOWN_KEY");
const detailId = env("HB_DETAIL_ID");
const hostile = env("HB_HOSTILE");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
mkdirSync(out, { recursive: true });

function check(ok, message) {
  if (!ok) throw new Error(message);
  console.log(`ok - ${message}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls from Node (real time), not inside the page, whose timers may be faked.
async function until(what, fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(100);
  }
  throw new Error(`timed out waiting until ${what} (last: ${JSON.stringify(last)})`);
}

// WCAG contrast ratios of the page's text against its background, for every kind of text.
function contrasts(page) {
  return page.evaluate(() => {
    const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
    const lum = (c) => {
      const [r, g, b] = rgb(c).map((v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    // The first ancestor with an opaque background.
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (!/rgba\(.*,\s*0\)$/.test(c) && c !== "transparent") return c;
      }
      return "rgb(255, 255, 255)";
    };
    const ratio = (el) => {
      const [a, b] = [lum(getComputedStyle(el).color), lum(background(el))];
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    };
    const targets = [
      ["headline", "#headline"],
      ["muted refresh line", "#refresh"],
      ["table header", "#services thead th"],
      ["service name", "#services tbody th a"],
      ["threshold (muted)", "#services tbody td:nth-child(4)"],
      ["filter label", ".tools label"],
      ["footer link", "footer a"],
      ["down count", ".c-down b"],
      ["degraded count", ".c-degraded b"],
      ["up count", ".c-up b"],
      ...["up", "degraded", "down", "unknown"].map((st) => [
        `${st} pill`,
        `#services tr[data-status="${st}"] td:nth-child(2) > b`,
      ]),
    ];
    return targets.map(([what, sel]) => {
      const el = document.querySelector(sel);
      return { what, ratio: el ? ratio(el) : null };
    });
  });
}

function checkContrast(theme, list) {
  for (const { what, ratio } of list) {
    check(ratio !== null && ratio >= 4.5, `${theme}: ${what} contrast ${ratio && ratio.toFixed(1)}:1 meets WCAG AA`);
  }
}

// A heartbeat that keeps the service that is later reported down up, with its message.
async function beatUp() {
  const r = await fetch(base + "/api/heartbeat", {
    method: "POST",
    headers: { authorization: `Bearer ${downKey}`, "content-type": "application/json" },
    body: JSON.stringify({ serviceId: downId, message: "serving 1.2k req/s" }),
  });
  if (r.status !== 200) throw new Error(`a heartbeat for ${downId} answered ${r.status}`);
}

async function api(path) {
  const r = await fetch(base + path);
  if (!r.ok) throw new Error(`${path} answered ${r.status}`);
  return r.json();
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
  ],
  timeout: 60000,
});
const problems = [];
// The overview row of a service: rows are found by their link.
const row = (id) => `#services tbody tr:has(a[href="/services/${id}"])`;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: "light" });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("request", (r) => {
    if (!r.url().startsWith(base)) problems.push(`request left the monitor: ${r.url()}`);
  });
  // A controllable clock: the 30 s refresh is fast-forwarded instead of waited for.
  await page.clock.install();

  // ---- overview matches /api/status ------------------------------------------------------
  // The host's clock runs on from the seeding; a fresh beat keeps the relative-time check
  // below in seconds however long Chromium took to start.
  await beatUp();
  await page.goto(base + "/", { waitUntil: "load" });
  // From here on only the test moves the page's time: 1 s now, then exactly what it runs.
  await page.clock.pauseAt(Date.now() + 1000);
  const status = await api("/api/status");
  const shown = await page.evaluate(() => ({
    counts: Object.fromEntries(
      [...document.querySelectorAll("[data-count]")].map((b) => [b.dataset.count, Number(b.textContent)]),
    ),
    rows: [...document.querySelectorAll("#services tbody tr")].map((tr) => ({
      id: tr.querySelector("th a").getAttribute("href").slice("/services/".length),
      status: tr.dataset.status,
      pill: tr.cells[1].textContent,
      name: tr.querySelector("th").textContent,
    })),
    headline: document.getElementById("headline").textContent,
  }));
  for (const k of ["total", "up", "down", "degraded", "unknown"]) {
    check(shown.counts[k] === status.counts[k], `count ${k} is ${status.counts[k]} as in /api/status (page: ${shown.counts[k]})`);
  }
  check(shown.rows.length === status.services.length, `one row per service (${shown.rows.length})`);
  for (const s of status.services) {
    const row = shown.rows.find((r) => r.id === s.id);
    const expected = s.enabled ? s.status : "disabled";
    check(row && row.status === expected && row.pill === expected, `${s.id} shows ${expected}`);
  }
  check(shown.headline === status.headline, `headline "${status.headline}"`);
  const rank = { down: 0, degraded: 1, unknown: 2, up: 3, disabled: 4 };
  check(
    shown.rows.every((r, i) => i === 0 || rank[shown.rows[i - 1].status] <= rank[r.status]),
    "rows are sorted down, degraded, unknown, up, disabled",
  );

  // ---- hostile strings are text ----------------------------------------------------------
  const evil = shown.rows.find((r) => r.name === hostile);
  check(evil, "the hostile service name renders as literal text");
  const injected = await page.evaluate(() => ({
    xss: window.__xss === true,
    images: document.querySelectorAll("main img").length,
    scripts: [...document.scripts].map((s) => s.src),
  }));
  check(!injected.xss, "no injected handler ran");
  check(injected.images === 0, "no injected <img> element exists");
  check(
    injected.scripts.every((src) => src.startsWith(base + "/assets/")),
    `only the dashboard's own scripts are present (${injected.scripts.join(", ")})`,
  );
  const evilMessage = await page.textContent(`${row("evil")} td:nth-child(5)`);
  check(evilMessage.startsWith(hostile.slice(0, 40)), "the hostile message renders as text");

  // ---- live relative times ---------------------------------------------------------------
  const shownTime = () => page.textContent(`${row(downId)} time`);
  const before = await shownTime();
  // How old the beat was when the page was rendered, in whole seconds, as the page knows it.
  const lag = await page.evaluate((sel) => {
    const at = (el) => Date.parse(el.getAttribute("datetime"));
    return Math.floor((at(document.querySelector("time[data-generated]")) - at(document.querySelector(sel))) / 1000);
  }, `${row(downId)} time`);
  // 25 s more on the page's clock (26 s and a moment since load): five ticks, and no refresh
  // yet (that would re-sync to the server's clock).
  await page.clock.runFor(25000);
  let ticked;
  try {
    await until("relative times tick", async () => {
      ticked = await shownTime();
      const secs = Number((/^(\d+) s ago$/.exec(ticked) || [])[1]);
      return secs >= lag + 25 && secs <= lag + 30;
    });
  } catch (e) {
    throw new Error(`${e.message}: "${before}" → "${ticked}", ${lag} s old when rendered, 26 s since`);
  }
  check(true, `relative time ticks live ("${before}" → "${ticked}", ${lag} s old when rendered)`);
  await page.screenshot({ path: join(out, "dashboard-light.png"), fullPage: true });
  checkContrast("light", await contrasts(page));

  // ---- a service going down shows within one refresh --------------------------------------
  const beat = await fetch(base + "/api/heartbeat", {
    method: "POST",
    headers: { authorization: `Bearer ${downKey}`, "content-type": "application/json" },
    body: JSON.stringify({ serviceId: downId, status: "down", message: "disk full on /var" }),
  });
  check(beat.status === 200, `reported ${downId} down`);
  // The refresh is due 30 s after load; 26 s have passed.
  const downBefore = shown.counts.down;
  await page.clock.runFor(5000);
  await until(`${downId} shows down`, () =>
    page.evaluate((sel) => document.querySelector(sel).dataset.status === "down", row(downId)),
  );
  const after = await page.evaluate((sel) => ({
    down: Number(document.querySelector('[data-count="down"]').textContent),
    first: document.querySelector("#services tbody tr").dataset.status,
    message: document.querySelector(sel).cells[4].textContent,
    overall: document.querySelector(".summary").dataset.overall,
  }), row(downId));
  check(after.down === downBefore + 1, `the down count rose to ${downBefore + 1} without a reload`);
  check(after.first === "down" && after.overall === "down", "a down service sorts first and the summary turns red");
  check(after.message === "disk full on /var", "the new message is shown");

  // ---- filter -----------------------------------------------------------------------------
  await page.fill("#filter", downId);
  const visible = await page.evaluate(() =>
    [...document.querySelectorAll("#services tbody tr")].filter((tr) => !tr.hidden).map((tr) => tr.querySelector("th").textContent),
  );
  check(visible.length === 1 && visible[0] === "API gateway", `the filter narrows to ${visible.join(", ")}`);
  await page.fill("#filter", "");

  // ---- dark mode toggle persists ----------------------------------------------------------
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const light = await bg();
  await page.click("#theme");
  const dark = await bg();
  const luminance = (rgb) => rgb.match(/\d+/g).slice(0, 3).map(Number).reduce((a, b) => a + b, 0) / 3;
  check(luminance(light) > 180 && luminance(dark) < 60, `the toggle switches the theme (${light} → ${dark})`);
  check((await page.getAttribute("html", "data-theme")) === "dark", "the html element carries data-theme=dark");
  check((await page.getAttribute("#theme", "aria-pressed")) === "true", "the toggle reports its state to assistive technology");
  await page.reload({ waitUntil: "load" });
  check(luminance(await bg()) < 60, "dark mode is remembered across a reload");
  await page.screenshot({ path: join(out, "dashboard-dark.png"), fullPage: true });
  checkContrast("dark", await contrasts(page));
  await page.click("#theme");
  check(luminance(await bg()) > 180, "the toggle switches back to light");

  // ---- detail page ------------------------------------------------------------------------
  await page.goto(`${base}/services/${detailId}`, { waitUntil: "load" });
  const deliveries = await api(`/api/deliveries?serviceId=${detailId}`);
  const rows = await page.evaluate(() =>
    [...document.querySelectorAll("#deliveries tbody tr")].map((tr) => tr.textContent),
  );
  check(deliveries.count > 0 && rows.length === deliveries.count, `the detail page lists ${deliveries.count} deliveries`);
  check(rows[0].includes(deliveries.entries[0].channel), `the delivery log names the channel ${deliveries.entries[0].channel}`);
  const history = await page.evaluate(() => document.querySelectorAll("#h-history ~ .scroll tbody tr").length);
  check(history > 0, `the state history has ${history} transitions`);
  await page.screenshot({ path: join(out, "service-detail.png"), fullPage: true });

  await page.goto(`${base}/services/evil`, { waitUntil: "load" });
  const evilDetail = await page.evaluate(() => ({
    xss: window.__xss === true,
    images: document.querySelectorAll("main img").length,
    title: document.querySelector("h1").firstChild.textContent.trim(),
    metadata: [...document.querySelectorAll("pre")].map((p) => p.textContent).join("\n"),
  }));
  check(!evilDetail.xss && evilDetail.images === 0, "the hostile service's detail page runs nothing");
  check(evilDetail.title === hostile, "the detail page shows the hostile name as text");
  check(evilDetail.metadata.includes(JSON.stringify(hostile).slice(1, 20)), "hostile metadata renders as text");

  // ---- without JavaScript -----------------------------------------------------------------
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const plain = await noJs.newPage();
  await plain.goto(base + "/?q=" + encodeURIComponent(downId), { waitUntil: "load" });
  const plainRows = await plain.evaluate(() => document.querySelectorAll("#services tbody tr").length);
  check(plainRows >= 1 && plainRows < shown.rows.length, `without JavaScript the page renders and filters server-side (${plainRows} rows)`);
  check(await plain.isHidden("#theme"), "without JavaScript the theme toggle (which needs it) stays hidden");
  await noJs.close();

  check(problems.length === 0, `no console errors, page errors or outside requests${problems.length ? ": " + problems.join("; ") : ""}`);
} finally {
  await browser.close();
}
