/**
 * The jobs list: recent jobs, newest first, each linking to its page.
 */
import type { JobRecord } from "../../../bot/jobs/types.ts";
import { html, type SafeHtml } from "./html.ts";
import { ago, span } from "./time.ts";

function duration(job: JobRecord, now: number): string {
  const start = Date.parse(job.createdAt);
  const end = job.finishedAt === undefined ? now : Date.parse(job.finishedAt);
  return Number.isNaN(start) || Number.isNaN(end) ? "" : span(end - start);
}

/** The jobs list's content. */
export function jobsContent(jobs: readonly JobRecord[], now: number): SafeHtml {
  const rows = jobs.map(
    (j) =>
      html`<tr data-status="${j.state}">
        <td data-sort="${j.id}"><a href="/ui/jobs/${j.id}">${j.id}</a></td>
        <td data-sort="${j.state}"><span class="badge ${j.state}">${j.state}</span></td>
        <td>${j.text}</td>
        <td>${j.principal}</td>
        <td>${j.transport}</td>
        <td data-sort="${j.createdAt}" title="${j.createdAt}">${ago(j.createdAt, now)}</td>
        <td>${duration(j, now)}</td>
      </tr>`,
  );
  return html`<section class="summary">
      <h1>Jobs</h1>
      <p>${jobs.length} recent</p>
    </section>
    <section class="controls">
      <input type="search" id="filter-text" placeholder="filter jobs" aria-label="filter" />
      <select id="filter-status" aria-label="status">
        <option value="all">all</option>
        <option value="running">running</option>
        <option value="succeeded">succeeded</option>
        <option value="failed">failed</option>
      </select>
    </section>
    <table class="grid sortable" id="jobs">
      <thead>
        <tr>
          <th data-col="0">job</th>
          <th data-col="1">state</th>
          <th data-col="2">command</th>
          <th data-col="3">by</th>
          <th data-col="4">via</th>
          <th data-col="5">started</th>
          <th data-col="6">took</th>
        </tr>
      </thead>
      <tbody>
        ${
          rows.length > 0
            ? rows
            : html`<tr>
                <td colspan="7" class="empty">no jobs yet</td>
              </tr>`
        }
      </tbody>
    </table>`;
}
