/* Sorting and filtering for the server-rendered tables (fleet view, jobs list). No build
 * step: plain browser JavaScript served as /ui/static/table.js. */
/* global document, location, setInterval */
"use strict";

(function () {
  const table = document.querySelector("table.sortable");
  if (!table) return;
  const body = table.tBodies[0];
  const text = document.getElementById("filter-text");
  const status = document.getElementById("filter-status");
  const RELOAD_MS = 30000;
  let sortCol = 0;
  let sortDir = 1;

  function cellKey(row, col) {
    const cell = row.cells[col];
    if (!cell) return "";
    return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
  }

  function compare(a, b) {
    const x = cellKey(a, sortCol);
    const y = cellKey(b, sortCol);
    const nx = Number(x);
    const ny = Number(y);
    if (x !== "" && y !== "" && !Number.isNaN(nx) && !Number.isNaN(ny)) return (nx - ny) * sortDir;
    return x.localeCompare(y) * sortDir;
  }

  function apply() {
    const rows = Array.from(body.rows).filter((r) => r.dataset.status !== undefined);
    const needle = text ? text.value.trim().toLowerCase() : "";
    const want = status ? status.value : "all";
    rows.sort(compare);
    for (const row of rows) {
      const matches =
        (want === "all" || row.dataset.status === want) &&
        (needle === "" || row.textContent.toLowerCase().includes(needle));
      row.hidden = !matches;
      body.appendChild(row);
    }
    for (const th of table.tHead.rows[0].cells) {
      th.classList.toggle("asc", Number(th.dataset.col) === sortCol && sortDir === 1);
      th.classList.toggle("desc", Number(th.dataset.col) === sortCol && sortDir === -1);
    }
  }

  for (const th of table.tHead.rows[0].cells) {
    th.addEventListener("click", () => {
      const col = Number(th.dataset.col);
      sortDir = col === sortCol ? -sortDir : 1;
      sortCol = col;
      apply();
    });
  }
  if (text) text.addEventListener("input", apply);
  if (status) status.addEventListener("change", apply);
  apply();

  if (table.id === "nodes") {
    setInterval(() => {
      const idle = (!text || text.value === "") && (!status || status.value === "all");
      if (idle && document.visibilityState === "visible") location.reload();
    }, RELOAD_MS);
  }
})();
