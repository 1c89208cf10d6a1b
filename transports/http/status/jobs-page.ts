/**
 * The jobs list: recent jobs' summaries (never their results), newest first, each linking to
 * its page.
 */
import type { JobSummary } from "../../../bot/jobs/types.ts";
import { html, type SafeHtml } from "./html.ts";
import { filterControls, sortableTable } from "./table.ts";
import { ago, span } from "./time.ts";

function duration(job: JobSummary, now: number): string {
  const start = Date.parse(job.createdAt);
  const end = job.finishedAt === undefined ? now : Date.parse(job.finishedAt);
  return Number.isNaN(start) || Number.isNaN(end) ? "" : span(end - start);
}

/** The jobs list's content. */
export function jobsContent(jobs: readonly JobSummary[], now: number): SafeHtml {
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
    ${filterControls("filter jobs", [
      ["all", "all"],
      ["running", "running"],
      ["succeeded", "succeeded"],
      ["failed", "failed"],
    ])}
    ${sortableTable(
      "jobs",
      ["job", "state", "command", "by", "via", "started", "took"],
      rows,
      "no jobs yet",
    )}`;
}
