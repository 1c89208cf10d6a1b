/* The live job page: draws the per-host table, the duration histogram and the timeline
 * (charts.js) from the job's event stream (GET /ui/jobs/<id>/events: snapshot, progress…, end)
 * with filter and sort, and the output groups the server computed once the job finished. Every
 * value from the server is set with textContent, never as markup. No build step. */
/* global document, EventSource, setInterval, clearInterval, setTimeout */
"use strict";

(function () {
  const root = document.getElementById("job");
  if (!root) return;
  const jobId = root.dataset.jobId;
  const tbody = document.querySelector("#hosts tbody");
  const head = document.querySelector("#hosts thead tr");
  const text = document.getElementById("filter-text");
  const status = document.getElementById("filter-status");
  const shown = document.getElementById("shown");
  const summary = document.getElementById("job-summary");
  const stateBadge = document.getElementById("job-state");
  const barOk = document.getElementById("job-bar-ok");
  const barBad = document.getElementById("job-bar-bad");
  const started = root.querySelector("time");
  const live = document.getElementById("job-live");
  const linesBox = document.getElementById("job-lines");
  const chartsBox = document.getElementById("job-charts");
  const histogramFig = document.getElementById("histogram");
  const histogramNote = document.getElementById("histogram-note");
  const timelineFig = document.getElementById("timeline");
  const timelineNote = document.getElementById("timeline-note");
  const groupsBox = document.getElementById("groups");
  const groupsNote = document.getElementById("groups-note");
  const groupList = document.getElementById("group-list");
  const charts = globalThis.CommodoreCharts;
  const duration = charts.duration;
  /** How often the timeline's open bars grow while the job runs. */
  const TICK_MS = 500;

  const RANK = {
    failed: 0,
    absent: 1,
    cancelled: 2,
    no_result: 3,
    no_ack: 4,
    running: 5,
    pending: 6,
    ok: 7,
    noop: 8,
  };
  const SILENT = ["no_ack", "no_result", "absent"];
  const NOT_FAILED = ["ok", "pending", "running", "noop"];
  const hosts = new Map();
  const expectedNames = new Set();
  let expected = 0;
  let final = null;
  let running = false;
  /** The job's start (its first `published` event) and the server's clock minus ours, in ms. */
  let origin = 0;
  let clockOffset = 0;
  let published = false;
  let ticker = null;
  let sortKey = "status";
  let sortDir = 1;
  let scheduled = false;
  const lines = [];

  function el(tag, cls, content) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }

  function row(name) {
    let h = hosts.get(name);
    if (!h) {
      h = { hostname: name, status: "pending", tr: el("tr") };
      h.tr.dataset.host = name;
      hosts.set(name, h);
    }
    return h;
  }

  function draw(h) {
    const tr = h.tr;
    tr.replaceChildren();
    tr.dataset.status = h.status;
    tr.appendChild(el("td", "host", h.hostname));
    const st = el("td");
    st.appendChild(el("span", "badge " + h.status, h.status.replace("_", " ")));
    tr.appendChild(st);
    tr.appendChild(el("td", "num", h.exit === undefined ? "" : String(h.exit)));
    tr.appendChild(el("td", "num", duration(h.durationMs)));
    const out = el("td", "output");
    if (h.output !== undefined) {
      const details = el("details");
      details.appendChild(el("summary", "", h.short || ""));
      details.appendChild(el("pre", "", JSON.stringify(h.output, null, 2)));
      out.appendChild(details);
    } else {
      out.textContent = h.short || "";
    }
    tr.appendChild(out);
  }

  function setHost(result) {
    const h = row(result.hostname);
    const keep = h.tr;
    Object.assign(h, result, { tr: keep });
    draw(h);
  }

  function apply(entry) {
    const e = entry.event;
    if (e.type === "progress") {
      lines.push(e.line);
      return;
    }
    if (e.type !== "fleet-progress") return;
    const p = e.progress;
    if (p.kind === "published") {
      expected = p.expected.length;
      if (!published) origin = Date.parse(entry.at);
      published = true;
      for (const name of p.expected) {
        expectedNames.add(name);
        if (!hosts.has(name)) draw(row(name));
      }
    } else if (p.kind === "ack") {
      const h = row(p.hostname);
      if (h.status === "pending") {
        h.status = "running";
        h.ackAt = Date.parse(entry.at) - origin;
        draw(h);
      }
    } else if (p.kind === "noop") {
      // An expected host's noop answers a batched rollout's request addressed to another host.
      if (expectedNames.has(p.hostname)) return;
      const h = row(p.hostname);
      h.status = "noop";
      h.short = "filter did not match";
      draw(h);
    } else if (p.kind === "host") {
      setHost(p.result);
      expected = Math.max(expected, p.expected);
    }
  }

  function applyJob(job) {
    stateBadge.textContent = job.state;
    stateBadge.className = "badge " + job.state;
    running = job.state === "running";
    if (job.fleet) {
      for (const h of job.fleet.hosts) setHost(h);
      final = job.fleet.summary;
    }
    if (job.lines) lines.splice(0, lines.length, ...job.lines);
    if (job.error) lines.push(job.error.code + ": " + job.error.message);
    drawGroups(job.groups || [], job.groupsOmitted || 0);
  }

  /** The server's output groups: hostnames, status, line count and the minorities' diffs. */
  function drawGroups(groups, omitted) {
    groupsBox.hidden = groups.length === 0;
    const differ = groups.filter((g) => !g.majority).length;
    groupsNote.textContent =
      differ === 0
        ? "every host had the same outcome"
        : (differ === 1 ? "1 group differs" : differ + " groups differ") +
          " from the majority, smallest first" +
          (omitted > 0 ? " (" + omitted + " more not shown)" : "");
    groupList.replaceChildren();
    for (const g of groups) {
      const box = el("article", g.majority ? "group majority" : "group");
      box.dataset.status = g.status;
      const head = el("h3");
      head.appendChild(el("code", "hosts", g.label));
      const exit = g.status === "failed" && g.exit !== undefined ? " (exit " + g.exit + ")" : "";
      head.appendChild(el("span", "badge " + g.status, g.status.replace("_", " ") + exit));
      const size = g.count + " host" + (g.count === 1 ? "" : "s");
      const length = g.lines + " line" + (g.lines === 1 ? "" : "s");
      head.appendChild(
        el("span", "meta", [size, length].concat(g.majority ? ["majority"] : []).join(" · ")),
      );
      box.appendChild(head);
      if (g.diff && g.diff.length > 0) {
        const pre = el("pre", "diff");
        for (const line of g.diff)
          pre.appendChild(el("span", line[0] === "+" ? "add" : "del", line + "\n"));
        box.appendChild(pre);
      }
      groupList.appendChild(box);
    }
  }

  /** The histogram of finished hosts and the timeline, open bars reaching the server's now. */
  function drawCharts() {
    const all = Array.from(hosts.values()).filter((h) => h.status !== "noop");
    chartsBox.hidden = all.length === 0;
    if (all.length === 0) return;
    const done = all.filter((h) => typeof h.durationMs === "number");
    charts.histogram(
      histogramFig,
      done.map((h) => ({ name: h.hostname, ms: h.durationMs, status: h.status })),
    );
    histogramNote.textContent =
      done.length < all.length ? "(" + done.length + " of " + all.length + " finished)" : "";
    const now = running ? Date.now() + clockOffset - origin : undefined;
    const drawn = charts.timeline(timelineFig, all, now, final ? final.durationMs : 0);
    const never = all.length - drawn;
    timelineNote.textContent =
      now === undefined && never > 0 ? "(" + never + " never started)" : "";
  }

  function tick(on) {
    if (on && ticker === null) ticker = setInterval(drawCharts, TICK_MS);
    if (!on && ticker !== null) {
      clearInterval(ticker);
      ticker = null;
    }
  }

  function counts() {
    const c = { ok: 0, failed: 0, silent: 0, cancelled: 0, pending: 0 };
    for (const h of hosts.values()) {
      if (h.status === "ok") c.ok += 1;
      else if (h.status === "pending" || h.status === "running") c.pending += 1;
      else if (SILENT.includes(h.status)) c.silent += 1;
      else if (h.status === "cancelled") c.cancelled += 1;
      else if (h.status !== "noop") c.failed += 1;
    }
    return c;
  }

  function matches(h, want, needle) {
    if (want === "failed" && NOT_FAILED.includes(h.status)) return false;
    if (want === "silent" && !SILENT.includes(h.status)) return false;
    if (want === "cancelled" && h.status !== "cancelled") return false;
    if (want === "pending" && h.status !== "pending" && h.status !== "running") return false;
    if (want === "ok" && h.status !== "ok") return false;
    return needle === "" || h.tr.textContent.toLowerCase().includes(needle);
  }

  function key(h) {
    if (sortKey === "status") return RANK[h.status] !== undefined ? RANK[h.status] : 9;
    const v = h[sortKey];
    return v === undefined ? null : v;
  }

  function compare(a, b) {
    const x = key(a);
    const y = key(b);
    if (x === null || y === null)
      return x === y ? a.hostname.localeCompare(b.hostname) : x === null ? 1 : -1;
    const d =
      typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return d !== 0 ? d * sortDir : a.hostname.localeCompare(b.hostname);
  }

  function render() {
    scheduled = false;
    const needle = text.value.trim().toLowerCase();
    const want = status.value;
    const all = Array.from(hosts.values()).sort(compare);
    let visible = 0;
    for (const h of all) {
      h.tr.hidden = !matches(h, want, needle);
      if (!h.tr.hidden) visible += 1;
      tbody.appendChild(h.tr);
    }
    shown.textContent = visible + " of " + all.length + " hosts shown";
    const c = counts();
    const total = Math.max(expected, c.ok + c.failed + c.silent + c.cancelled + c.pending);
    const done = total - c.pending;
    const pct = (n) => (total > 0 ? (100 * n) / total : 0) + "%";
    if (final) {
      summary.textContent =
        final.ok +
        " ok, " +
        final.failed +
        " failed, " +
        (final.noAck + final.noResult) +
        " silent" +
        (final.cancelled ? ", " + final.cancelled + " cancelled" : "") +
        " of " +
        final.expected +
        " expected in " +
        duration(final.durationMs);
    } else if (hosts.size > 0) {
      summary.textContent =
        done +
        "/" +
        total +
        " done: " +
        c.ok +
        " ok, " +
        c.failed +
        " failed, " +
        c.silent +
        " silent, " +
        (c.cancelled > 0 ? c.cancelled + " cancelled, " : "") +
        c.pending +
        " pending";
    }
    barOk.style.width = pct(c.ok);
    barBad.style.width = pct(c.failed + c.silent + c.cancelled);
    linesBox.hidden = lines.length === 0;
    linesBox.textContent = lines.join("\n");
    for (const th of head.cells) {
      th.classList.toggle("asc", th.dataset.key === sortKey && sortDir === 1);
      th.classList.toggle("desc", th.dataset.key === sortKey && sortDir === -1);
    }
    drawCharts();
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setTimeout(render, 30);
  }

  for (const th of head.cells) {
    th.addEventListener("click", () => {
      sortDir = th.dataset.key === sortKey ? -sortDir : 1;
      sortKey = th.dataset.key;
      render();
    });
  }
  const when = new Date(started.dateTime);
  if (!Number.isNaN(when.getTime())) started.textContent = when.toLocaleString();
  text.addEventListener("input", render);
  status.addEventListener("change", render);

  const source = new EventSource("/ui/jobs/" + encodeURIComponent(jobId) + "/events");
  source.addEventListener("snapshot", (msg) => {
    const data = JSON.parse(msg.data);
    hosts.clear();
    expectedNames.clear();
    tbody.replaceChildren();
    lines.length = 0;
    final = null;
    expected = 0;
    origin = Date.parse(data.job.createdAt);
    published = false;
    clockOffset = typeof data.now === "number" ? data.now - Date.now() : 0;
    for (const entry of data.events) apply(entry);
    applyJob(data.job);
    live.textContent = running ? "live" : "";
    live.className = running ? "live on" : "live";
    tick(running);
    render();
  });
  source.addEventListener("progress", (msg) => {
    apply(JSON.parse(msg.data));
    schedule();
  });
  source.addEventListener("end", (msg) => {
    source.close();
    applyJob(JSON.parse(msg.data).job);
    tick(false);
    live.textContent = "";
    live.className = "live";
    render();
  });
  source.addEventListener("gone", () => {
    source.close();
    tick(false);
    summary.textContent = "this job no longer exists";
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      tick(false);
      live.textContent = "disconnected; reload the page";
    } else if (source.readyState === EventSource.CONNECTING) live.textContent = "reconnecting…";
  });
})();
