// The dashboard's live layer. The server renders a complete page; this script only keeps it
// current: relative times tick, the overview re-reads /api/status every 30 s and updates rows in
// place (no reload, no flashing), the filter box filters as you type, and the theme toggle
// remembers its choice. Everything user-supplied is written with textContent, never as HTML.
"use strict";

(function () {
  var REFRESH_MS = 30000;
  var TICK_MS = 5000;
  var RANK = { down: 0, degraded: 1, unknown: 2, up: 3, disabled: 4 };
  var MESSAGE_CHARS = 120;
  // Server time minus browser time, so "2 min ago" agrees with the server's clock.
  var skew = 0;

  function now() {
    return Date.now() + skew;
  }

  function syncClock(iso) {
    var server = Date.parse(iso);
    if (!isNaN(server)) skew = server - Date.now();
  }

  // Mirrors heartbeat-core's dashboard::format::ago.
  function ago(ms) {
    var secs = Math.floor(Math.max(0, now() - ms) / 1000);
    if (secs < 5) return "just now";
    if (secs < 60) return secs + " s ago";
    if (secs < 3600) return Math.floor(secs / 60) + " min ago";
    if (secs < 86400) return Math.floor(secs / 3600) + " h ago";
    return Math.floor(secs / 86400) + " d ago";
  }

  // Mirrors heartbeat-core's dashboard::format::percent: never rounds a loss up to 100 %.
  function percent(p) {
    if (p === null || p === undefined) return "\u2014";
    if (p >= 100) return "100%";
    return (Math.floor(p * 100) / 100).toFixed(2) + "%";
  }

  function clip(s, max) {
    var chars = Array.from(s);
    return chars.length > max ? chars.slice(0, max).join("") + "\u2026" : s;
  }

  function tick() {
    document.querySelectorAll("time[data-ago], #services time").forEach(function (t) {
      var at = Date.parse(t.getAttribute("datetime"));
      if (!isNaN(at)) t.textContent = ago(at);
    });
  }

  // ---- theme ---------------------------------------------------------------------------
  function setupTheme() {
    var button = document.getElementById("theme");
    if (!button) return;
    var root = document.documentElement;
    var system = window.matchMedia("(prefers-color-scheme: dark)");
    function current() {
      return root.getAttribute("data-theme") || (system.matches ? "dark" : "light");
    }
    function show() {
      var dark = current() === "dark";
      button.setAttribute("aria-pressed", dark ? "true" : "false");
      button.textContent = dark ? "Light mode" : "Dark mode";
    }
    button.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try {
        localStorage.setItem("heartbeat-theme", next);
      } catch (e) {
        // Storage disabled: the choice lasts for this page only.
      }
      show();
    });
    system.addEventListener("change", show);
    button.hidden = false;
    show();
  }

  // ---- overview --------------------------------------------------------------------------
  function rows() {
    var body = document.querySelector("#services tbody");
    return body ? Array.prototype.slice.call(body.rows) : [];
  }

  // A row's service id, from its link (rows carry no id attribute: 1,000 rows add up).
  function rowId(tr) {
    return decodeURIComponent(tr.querySelector("th a").getAttribute("href").slice("/services/".length));
  }

  function applyFilter() {
    var input = document.getElementById("filter");
    if (!input) return;
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    rows().forEach(function (tr) {
      var hay = [
        tr.querySelector("th").textContent.toLowerCase(),
        rowId(tr).toLowerCase(),
        tr.getAttribute("data-status"),
      ].join(" ");
      tr.hidden = !words.every(function (w) {
        return hay.indexOf(w) >= 0;
      });
    });
  }

  function setupFilter() {
    var input = document.getElementById("filter");
    if (!input) return;
    input.form.addEventListener("submit", function (e) {
      e.preventDefault();
    });
    input.addEventListener("input", function () {
      applyFilter();
      var url = new URL(location.href);
      if (input.value) url.searchParams.set("q", input.value);
      else url.searchParams.delete("q");
      history.replaceState(null, "", url);
    });
  }

  function updateRow(tr, svc) {
    var status = svc.enabled ? svc.status : "disabled";
    tr.setAttribute("data-status", status);
    var cells = tr.cells;
    cells[1].firstChild.textContent = status;
    var last = cells[2];
    if (svc.lastHeartbeat) {
      var t = last.querySelector("time");
      if (!t) {
        t = document.createElement("time");
        last.textContent = "";
        last.appendChild(t);
      }
      // Mirrors heartbeat-core's Row::flag.
      var flag = svc.paused
        ? "paused"
        : svc.maintenance
          ? "maintenance"
          : svc.flapping
            ? "flapping"
            : svc.late
              ? "late"
              : "";
      var mark = last.querySelector("em");
      if (flag && !mark) {
        mark = document.createElement("em");
        last.appendChild(document.createTextNode(" "));
        last.appendChild(mark);
      } else if (!flag && mark) {
        mark.previousSibling.remove();
        mark.remove();
      }
      if (mark) mark.textContent = flag;
      t.setAttribute("datetime", svc.lastHeartbeat);
      t.setAttribute("title", svc.lastHeartbeat.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC"));
      t.textContent = ago(Date.parse(svc.lastHeartbeat));
    }
    cells[4].textContent = svc.lastMessage ? clip(svc.lastMessage, MESSAGE_CHARS) : "";
    ["24h", "7d", "30d", "90d"].forEach(function (w, i) {
      cells[6 + i].textContent = percent(svc.uptime[w]);
    });
  }

  function sortRows(byId) {
    var body = document.querySelector("#services tbody");
    var list = rows();
    var sorted = list.slice().sort(function (a, b) {
      var ra = RANK[a.getAttribute("data-status")];
      var rb = RANK[b.getAttribute("data-status")];
      if (ra !== rb) return ra - rb;
      var na = byId[rowId(a)].name.toLowerCase();
      var nb = byId[rowId(b)].name.toLowerCase();
      return na < nb ? -1 : na > nb ? 1 : 0;
    });
    // Move only rows that are out of place, so an unchanged table is not touched at all.
    sorted.forEach(function (tr, i) {
      if (body.rows[i] !== tr) body.insertBefore(tr, body.rows[i] || null);
    });
  }

  function updateSummary(data) {
    var summary = document.querySelector(".summary");
    summary.setAttribute("data-overall", data.overall);
    document.getElementById("headline").textContent = data.headline;
    Object.keys(data.counts).forEach(function (k) {
      var el = summary.querySelector('[data-count="' + k + '"]');
      if (el) el.textContent = String(data.counts[k]);
    });
    document.title = data.headline + " \u00b7 Heartbeat monitor";
  }

  function refreshed(ok, detail) {
    var p = document.getElementById("refresh");
    if (!p) return;
    p.classList.toggle("failed", !ok);
    p.textContent = "";
    if (ok) {
      p.appendChild(document.createTextNode("Updated "));
      var t = document.createElement("time");
      t.setAttribute("datetime", new Date(now()).toISOString());
      t.setAttribute("data-ago", "");
      t.textContent = "just now";
      p.appendChild(t);
    } else {
      p.textContent = "Could not refresh (" + detail + "); retrying in 30 s";
    }
  }

  // The JSON at `url`, fresh; a failed answer rejects with its status.
  function getJson(url) {
    return fetch(url, { cache: "no-store", headers: { accept: "application/json" } }).then(
      function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }
    );
  }

  // A page of a large fleet re-reads only the summary: its rows stay as rendered (their times
  // still tick), and reading every service's status each time would grow with the fleet.
  function refreshSummary() {
    getJson("/api/status?summary=1")
      .then(function (data) {
        syncClock(data.generatedAt);
        updateSummary(data);
        refreshed(true);
      })
      .catch(function (e) {
        refreshed(false, e.message || "network error");
      });
  }

  function refresh() {
    if (document.querySelector("nav.pages")) {
      refreshSummary();
      return;
    }
    getJson("/api/status")
      .then(function (data) {
        syncClock(data.generatedAt);
        var byId = {};
        data.services.forEach(function (s) {
          byId[s.id] = s;
        });
        var list = rows();
        // The set of services changes only with a restart; then the whole page is stale.
        if (list.length !== data.services.length && !new URL(location.href).searchParams.get("q")) {
          location.reload();
          return;
        }
        list.forEach(function (tr) {
          var svc = byId[rowId(tr)];
          if (svc) updateRow(tr, svc);
        });
        sortRows(byId);
        applyFilter();
        updateSummary(data);
        refreshed(true);
      })
      .catch(function (e) {
        refreshed(false, e.message || "network error");
      });
  }

  // The detail page keeps its status pill current; its history tables change rarely.
  function updateDetail(head, svc) {
    if (!svc) return;
    var status = svc.enabled ? svc.status : "disabled";
    head.setAttribute("data-status", status);
    head.querySelector("h1 .pill").textContent = status;
  }

  function refreshDetail() {
    var head = document.querySelector(".service-head");
    var id = encodeURIComponent(head.getAttribute("data-id"));
    getJson("/api/status?serviceId=" + id)
      .then(function (data) {
        syncClock(data.generatedAt);
        data.services.forEach(function (s) {
          if (s.id === head.getAttribute("data-id")) updateDetail(head, s);
        });
      })
      .catch(function () {
        // The next tick retries.
      });
  }

  function start() {
    var generated = document.querySelector("time[data-generated]");
    if (generated) syncClock(generated.getAttribute("datetime"));
    setupTheme();
    setupFilter();
    applyFilter();
    tick();
    setInterval(tick, TICK_MS);
    if (document.getElementById("services")) setInterval(refresh, REFRESH_MS);
    else if (document.querySelector(".service-head")) setInterval(refreshDetail, REFRESH_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
