/**
 * The job page's server-rendered shell; job.js fills the summary, the charts (charts.js draws
 * a duration histogram and a start → ack → finish timeline per host), the output groups and
 * the per-host table from the job's event stream and keeps them live.
 */
import type { JobRecord } from "../../../bot/jobs/types.ts";
import { html, type SafeHtml } from "./html.ts";
import { filterControls, type FilterChoice } from "./table.ts";

/** Status filter choices of the host table. */
const HOST_FILTERS: readonly FilterChoice[] = [
  ["all", "all"],
  ["failed", "failed (not ok)"],
  ["silent", "silent (no ack / no result)"],
  ["cancelled", "cancelled"],
  ["pending", "pending"],
  ["ok", "ok"],
];

/** The figures charts.js draws into (job.js fills them as events arrive). */
function charts(): SafeHtml {
  return html`<section class="charts job-charts" id="job-charts" hidden>
    <figure class="chart" id="histogram">
      <figcaption>Hosts by duration <span class="note" id="histogram-note"></span></figcaption>
    </figure>
    <figure class="chart wide" id="timeline">
      <figcaption>
        Timeline per host: <span class="key wait"></span> start → ack
        <span class="key run"></span> ack → finish <span class="key open"></span> still running or
        waiting
        <span class="note" id="timeline-note"></span>
      </figcaption>
    </figure>
  </section>`;
}

/** The job page's content for `job`. */
export function jobContent(job: JobRecord): SafeHtml {
  return html`<section class="summary" id="job" data-job-id="${job.id}">
      <h1><code>${job.text}</code></h1>
      <p class="meta">
        <span class="badge ${job.state}" id="job-state">${job.state}</span> <span>${job.id}</span> ·
        by <span>${job.principal}</span> via <span>${job.transport}</span> · started
        <time datetime="${job.createdAt}">${job.createdAt}</time>
      </p>
      <p id="job-summary" class="line">loading…</p>
      <div class="progress">
        <div id="job-bar-ok"></div>
        <div id="job-bar-bad"></div>
      </div>
      <p id="job-live" class="live"></p>
    </section>
    ${charts()}
    <section class="groups" id="groups" hidden>
      <h2>Output groups</h2>
      <p class="meta" id="groups-note"></p>
      <div id="group-list"></div>
    </section>
    ${filterControls("filter hosts or output", HOST_FILTERS, html`<span id="shown"></span>`)}
    <table class="grid" id="hosts">
      <thead>
        <tr>
          <th data-key="hostname">host</th>
          <th data-key="status">status</th>
          <th data-key="exit">exit</th>
          <th data-key="durationMs">duration</th>
          <th data-key="short">output</th>
        </tr>
      </thead>
      <tbody></tbody>
    </table>
    <pre id="job-lines" hidden></pre>
    <noscript
      ><p class="error">
        This page needs JavaScript for the host table; the API has the same data at GET
        /jobs/${job.id}.
      </p></noscript
    >`;
}
