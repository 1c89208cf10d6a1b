/* Charts of the job page, drawn as inline SVG through DOM APIs (createElementNS, setAttribute,
 * textContent: no markup strings and no inline style, so the strict CSP holds; colours come
 * from status.css): a histogram of host durations stacked by status, and a start → ack →
 * finish timeline per host on which a batched rollout's later waves start further right.
 * Everything is exported on globalThis.CommodoreCharts, for job.js and for the unit tests of
 * the pure helpers (test/status/charts.test.ts). No build step. */
/* global document */
"use strict";

(function () {
  const NS = "http://www.w3.org/2000/svg";
  /** Aim for about this many histogram buckets (there is at most one more). */
  const BUCKETS = 10;
  /** Aim for about this many time axis ticks. */
  const TICKS = 8;
  /** Most hostnames a histogram column's tooltip lists. */
  const NAMES_IN_TOOLTIP = 12;
  /** Statuses stacked bottom up in a histogram column; others follow in order of appearance. */
  const STACK = ["ok", "failed", "no_result", "no_ack", "absent", "cancelled"];
  const MS_PER_SECOND = 1000;
  const HIST = { width: 420, height: 220, side: 14, top: 20, bottom: 30, maxLabels: 6 };
  const LINE = {
    width: 900,
    label: 120,
    right: 18,
    top: 26,
    row: 18,
    minRow: 4,
    maxHeight: 720,
    labelRow: 12,
    bar: 0.7,
    waiting: 0.25,
    minBar: 1.5,
  };
  const collator = new Intl.Collator("en", { numeric: true });

  /** `300 ms`, `1.50 s`, `12.3 s` (empty for anything but a number). */
  function duration(ms) {
    if (typeof ms !== "number") return "";
    return ms < MS_PER_SECOND
      ? Math.round(ms) + " ms"
      : (ms / MS_PER_SECOND).toFixed(ms < 10 * MS_PER_SECOND ? 2 : 1) + " s";
  }

  /** Axis label of a round time: `0`, `500 ms`, `1.5 s`. */
  function tickLabel(ms) {
    if (ms === 0) return "0";
    return ms < MS_PER_SECOND ? ms + " ms" : Number((ms / MS_PER_SECOND).toFixed(2)) + " s";
  }

  /** The smallest step of the 1-2-5 series (at least 1) that is not below `raw`. */
  function niceStep(raw) {
    if (!(raw > 1)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5]) if (m * power >= raw) return m * power;
    return 10 * power;
  }

  /** Round times from 0 up to `max` (inclusive), about `target` of them. */
  function ticks(max, target) {
    const step = niceStep(max / (target || TICKS));
    const out = [];
    for (let t = 0; t <= max; t += step) out.push(t);
    return out;
  }

  /**
   * `items` ({name, ms, status}) in equal buckets [from, to) of a round width from 0, about
   * `target` of them; each bucket lists its items by name.
   */
  function buckets(items, target) {
    if (items.length === 0) return [];
    const ms = (i) => Math.max(0, i.ms);
    const max = Math.max(...items.map(ms));
    const step = niceStep(max / (target || BUCKETS));
    const out = Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => ({
      from: i * step,
      to: (i + 1) * step,
      items: [],
    }));
    for (const i of items) out[Math.floor(ms(i) / step)].items.push(i);
    for (const b of out) b.items.sort((a, b2) => collator.compare(a.name, b2.name));
    return out;
  }

  /**
   * How much later than they happened acks were recorded (ackAt, from the job's events): the
   * least ackAt − ackMs of finished hosts without startMs, as the first of them started at 0.
   */
  function lagOf(hosts) {
    let lag = Infinity;
    for (const h of hosts)
      if (h.startMs === undefined && typeof h.ackAt === "number" && typeof h.ackMs === "number")
        lag = Math.min(lag, h.ackAt - h.ackMs);
    return Number.isFinite(lag) ? Math.max(0, lag) : 0;
  }

  /**
   * Where a host's bar goes, in ms from the job's start: a finished host (one with durationMs)
   * spans startMs → startMs + ackMs → startMs + durationMs. While the job runs (`now` given), a
   * finished host without startMs started when its ack was recorded (ackAt) less its ackMs and
   * the recording's `lag`; an acknowledged host is an open bar from its ack to now and a pending
   * one an open waiting bar from 0 to now. Undefined when the host has no bar.
   */
  function span(host, now, lag) {
    const late = lag || 0;
    if (typeof host.durationMs === "number") {
      const seen = now !== undefined && typeof host.ackAt === "number";
      const start =
        host.startMs !== undefined || !seen
          ? host.startMs || 0
          : Math.max(0, host.ackAt - (host.ackMs || 0) - late);
      const ack = typeof host.ackMs === "number" ? start + host.ackMs : undefined;
      return { start, ack, end: start + host.durationMs, open: false, waiting: false };
    }
    if (now === undefined) return undefined;
    if (typeof host.ackAt === "number") {
      const ack = Math.max(0, host.ackAt - late);
      return { start: ack, ack, end: Math.max(now, ack), open: true };
    }
    if (host.status === "pending") return { start: 0, end: now, open: true, waiting: true };
    return undefined;
  }

  const plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");

  function node(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** The figure's svg (made once), emptied, sized and labelled. */
  function canvas(figure, width, height, label) {
    let svg = figure.querySelector("svg");
    if (!svg) {
      svg = node("svg", { role: "img" });
      figure.appendChild(svg);
    }
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("aria-label", label);
    svg.replaceChildren(node("title", {}, label));
    return svg;
  }

  function range(b) {
    return tickLabel(b.from) + " – " + tickLabel(b.to);
  }

  function columnTitle(b) {
    const names = b.items.slice(0, NAMES_IN_TOOLTIP).map((i) => i.name);
    const more = b.items.length - names.length;
    return (
      range(b) +
      ": " +
      plural(b.items.length, "host") +
      (names.length > 0
        ? " — " + names.join(", ") + (more > 0 ? " and " + more + " more" : "")
        : "")
    );
  }

  /** Draws the histogram of finished hosts `items` ({name, ms, status}) into `figure`. */
  function histogram(figure, items) {
    const bs = buckets(items);
    const { width, height, side, top, bottom } = HIST;
    const filled = bs.filter((b) => b.items.length > 0);
    const label =
      "Hosts by duration: " +
      (filled.length === 0
        ? "no host finished yet"
        : filled.map((b) => range(b) + " " + plural(b.items.length, "host")).join(", "));
    const svg = canvas(figure, width, height, label);
    if (bs.length === 0) {
      svg.appendChild(
        node("text", { class: "empty", x: width / 2, y: height / 2 }, "no host finished yet"),
      );
      return;
    }
    const plotH = height - top - bottom;
    const colW = (width - 2 * side) / bs.length;
    const most = Math.max(...bs.map((b) => b.items.length));
    const base = top + plotH;
    const statuses = STACK.concat(
      items.map((i) => i.status).filter((s, k, all) => !STACK.includes(s) && all.indexOf(s) === k),
    );
    const every = Math.ceil(bs.length / HIST.maxLabels);
    bs.forEach((b, i) => {
      const x = side + i * colW;
      const g = node("g", {
        class: "bucket",
        "data-from": b.from,
        "data-to": b.to,
        "data-count": b.items.length,
      });
      g.appendChild(node("title", {}, columnTitle(b)));
      g.appendChild(node("rect", { class: "hit", x, y: top, width: colW, height: plotH }));
      let y = base;
      for (const status of statuses) {
        const n = b.items.filter((it) => it.status === status).length;
        if (n === 0) continue;
        const h = (n / most) * plotH;
        y -= h;
        const w = Math.max(1, colW - 2);
        g.appendChild(node("rect", { class: "seg " + status, x: x + 1, y, width: w, height: h }));
      }
      if (b.items.length > 0)
        g.appendChild(node("text", { class: "count", x: x + colW / 2, y: y - 4 }, b.items.length));
      if (i % every === 0)
        g.appendChild(node("text", { class: "tick", x, y: base + 14 }, tickLabel(b.from)));
      svg.appendChild(g);
    });
    const last = bs[bs.length - 1];
    svg.appendChild(
      node("text", { class: "tick", x: width - side, y: base + 14 }, tickLabel(last.to)),
    );
    svg.appendChild(
      node("line", { class: "axis", x1: side, x2: width - side, y1: base, y2: base }),
    );
  }

  function barTitle(host, s) {
    const what = host.hostname + ": " + host.status.replace("_", " ");
    if (s.waiting) return what + " · waiting for " + duration(s.end);
    const ack = s.ack === undefined ? "" : " · ack at " + duration(s.ack);
    if (s.open) return what + ack + " · running for " + duration(s.end - s.start);
    return (
      what +
      " · started at " +
      duration(s.start) +
      ack +
      " · finished at " +
      duration(s.end) +
      " (took " +
      duration(s.end - s.start) +
      ")"
    );
  }

  /**
   * Draws one bar per host of `hosts` (objects as job.js keeps them) into `figure`, ordered by
   * start: `now` is the time since the job's start while it runs (undefined once it finished),
   * `total` the job's duration when known. Returns how many hosts got a bar.
   */
  function timeline(figure, hosts, now, total) {
    const lag = now === undefined ? 0 : lagOf(hosts);
    const rows = hosts
      .map((h) => ({ h, s: span(h, now, lag) }))
      .filter((r) => r.s !== undefined)
      .sort((a, b) => a.s.start - b.s.start || collator.compare(a.h.hostname, b.h.hostname));
    const end = Math.max(1, total || 0, now || 0, ...rows.map((r) => r.s.end));
    const n = rows.length;
    const row = Math.max(
      LINE.minRow,
      Math.min(LINE.row, Math.floor(LINE.maxHeight / Math.max(1, n))),
    );
    const height = LINE.top + Math.max(1, n) * row + 6;
    const plot = LINE.width - LINE.label - LINE.right;
    const x = (ms) => LINE.label + (Math.max(0, ms) / end) * plot;
    const starts = rows.map((r) => r.s.start);
    const label =
      n === 0
        ? "Timeline: no host started yet"
        : "Timeline of " +
          plural(n, "host") +
          " over " +
          duration(end) +
          ", starts from " +
          duration(Math.min(...starts)) +
          " to " +
          duration(Math.max(...starts));
    const svg = canvas(figure, LINE.width, height, label);
    for (const t of ticks(end)) {
      svg.appendChild(
        node("line", { class: "grid", x1: x(t), x2: x(t), y1: LINE.top - 4, y2: height }),
      );
      svg.appendChild(node("text", { class: "tick", x: x(t), y: LINE.top - 10 }, tickLabel(t)));
    }
    rows.forEach(({ h, s }, i) => {
      const y = LINE.top + i * row;
      const barH = Math.max(LINE.minBar, row * (s.waiting ? LINE.waiting : LINE.bar));
      const by = y + (row - barH) / 2;
      const g = node("g", {
        class: "host " + h.status + (s.open ? " live" : ""),
        "data-host": h.hostname,
        "data-start": Math.round(s.start),
        "data-end": Math.round(s.end),
      });
      g.appendChild(node("title", {}, barTitle(h, s)));
      if (row >= LINE.labelRow)
        g.appendChild(
          node("text", { class: "name", x: LINE.label - 6, y: y + row / 2 }, h.hostname),
        );
      const cls = "bar" + (s.open ? " open" : "") + (s.waiting ? " waiting" : "");
      const w = Math.max(LINE.minBar, x(s.end) - x(s.start));
      g.appendChild(node("rect", { class: cls, x: x(s.start), y: by, width: w, height: barH }));
      if (s.ack !== undefined && s.ack > s.start)
        g.appendChild(
          node("rect", {
            class: "wait",
            x: x(s.start),
            y: by,
            width: x(s.ack) - x(s.start),
            height: barH,
          }),
        );
      if (s.ack !== undefined)
        g.appendChild(
          node("line", { class: "ack", x1: x(s.ack), x2: x(s.ack), y1: by, y2: by + barH }),
        );
      svg.appendChild(g);
    });
    if (now !== undefined)
      svg.appendChild(
        node("line", { class: "now", x1: x(now), x2: x(now), y1: LINE.top - 4, y2: height }),
      );
    return n;
  }

  globalThis.CommodoreCharts = {
    duration,
    tickLabel,
    niceStep,
    ticks,
    buckets,
    lagOf,
    span,
    histogram,
    timeline,
  };
})();
