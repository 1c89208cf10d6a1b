/**
 * The parts the list pages share: the filter bar (a search box and a status select, which
 * table.js and job.js read by id) and the table table.js sorts by numbered column.
 */
import { html, type SafeHtml } from "./html.ts";

/** One choice of the status select: its value and the label shown. */
export type FilterChoice = readonly [value: string, label: string];

/** The filter bar; `after` follows the select (such as a "shown" counter). */
export function filterControls(
  placeholder: string,
  choices: readonly FilterChoice[],
  after?: SafeHtml,
): SafeHtml {
  const options = choices.map(([v, label]) => html`<option value="${v}">${label}</option>`);
  return html`<section class="controls">
    <input type="search" id="filter-text" placeholder="${placeholder}" aria-label="filter" />
    <select id="filter-status" aria-label="status">
      ${options}
    </select>
    ${after}
  </section>`;
}

/** A sortable table `id` with `columns`, showing `rows`, or one row saying `empty`. */
export function sortableTable(
  id: string,
  columns: readonly string[],
  rows: readonly SafeHtml[],
  empty: string,
): SafeHtml {
  const head = columns.map((name, i) => html`<th data-col="${i}">${name}</th>`);
  return html`<table class="grid sortable" id="${id}">
    <thead>
      <tr>
        ${head}
      </tr>
    </thead>
    <tbody>
      ${
        rows.length > 0
          ? rows
          : html`<tr>
              <td colspan="${columns.length}" class="empty">${empty}</td>
            </tr>`
      }
    </tbody>
  </table>`;
}
