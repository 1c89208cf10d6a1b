/**
 * The fleet view: every accepted node with its facts, last heartbeat, key fingerprint and
 * version; nodes whose last heartbeat is older than the stale threshold are flagged; charts count
 * the nodes by role and by os. Hosts whose keys are pending or rejected are listed apart, for
 * callers who may run `nodes pending`.
 */
import type { NodeInfo } from "../../../executors/fleet/index.ts";
import { fleetCharts } from "./fleet-charts.ts";
import { html, type SafeHtml } from "./html.ts";
import { filterControls, sortableTable } from "./table.ts";
import { ago } from "./time.ts";

const MS_PER_SECOND = 1_000;

/** Whether a node's last heartbeat is older than `staleAfterSeconds` at `now`. */
export function isStale(node: NodeInfo, now: number, staleAfterSeconds: number): boolean {
  const t = Date.parse(node.lastSeen);
  return Number.isNaN(t) || now - t > staleAfterSeconds * MS_PER_SECOND;
}

function factChips(facts: Readonly<Record<string, string>>): SafeHtml[] {
  return Object.entries(facts)
    .filter(([k]) => k !== "hostname")
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => html`<span class="fact"><b>${k}</b>=${v}</span> `);
}

/** Hosts whose keys wait for an operator (or were rejected), with the command to accept. */
function waitingSection(waiting: readonly NodeInfo[], now: number): SafeHtml {
  if (waiting.length === 0) return html``;
  const rows = waiting.map(
    (n) =>
      html`<tr data-status="${n.state}">
        <td class="host" data-sort="${n.hostname}">${n.hostname}</td>
        <td data-sort="${n.state}">
          <span class="badge ${n.state === "rejected" ? "failed" : "pending"}">${n.state}</span>
          ${n.keyChanged === true ? html`<span class="badge failed">key changed</span>` : html``}
        </td>
        <td><code>${n.fingerprint}</code></td>
        <td class="facts">${factChips(n.facts)}</td>
        <td title="${n.lastSeen}">${ago(n.lastSeen, now)}</td>
        <td><code>nodes accept ${n.hostname} ${n.fingerprint}</code></td>
      </tr>`,
  );
  return html`<section class="pending" id="pending">
    <h2>Waiting for acceptance</h2>
    <p>
      These hosts registered with keys the controller has not accepted: they are never targeted or
      provisioned, and their replies are dropped. Compare each fingerprint with
      <code>ssh-keygen -lf</code> on the host before accepting it.
    </p>
    ${sortableTable(
      "pending-nodes",
      ["host", "state", "key fingerprint", "facts", "last heartbeat", "to accept"],
      rows,
      "no host keys waiting",
    )}
  </section>`;
}

/** The fleet view's content: accepted nodes, then (for callers allowed) the waiting ones. */
export function fleetContent(
  nodes: readonly NodeInfo[],
  waiting: readonly NodeInfo[],
  now: number,
  staleAfterSeconds: number,
  where: Readonly<Record<string, string>>,
): SafeHtml {
  const stale = nodes.filter((n) => isStale(n, now, staleAfterSeconds)).length;
  const scope = Object.entries(where).map(([k, v]) => `${k}=${v}`);
  const absent = nodes.filter((n) => n.absent === true).length;
  const rows = nodes.map((n) => {
    const old = isStale(n, now, staleAfterSeconds);
    const seen = Date.parse(n.lastSeen);
    const status = n.absent === true ? "absent" : old ? "stale" : "live";
    return html`<tr class="${old ? "stale" : ""}" data-status="${status}">
      <td class="host" data-sort="${n.hostname}">${n.hostname}</td>
      <td data-sort="${n.absent === true ? "2" : old ? "1" : "0"}">
        ${
          n.absent === true
            ? html`<span class="badge absent" title="${n.detail ?? ""}">absent</span>`
            : old
              ? html`<span class="badge failed">stale</span>`
              : html`<span class="badge ok">live</span>`
        }
      </td>
      <td class="facts">${factChips(n.facts)}</td>
      <td data-sort="${Number.isNaN(seen) ? 0 : seen}" title="${n.lastSeen}">
        ${ago(n.lastSeen, now)}
      </td>
      <td><code>${n.fingerprint}</code></td>
      <td>${n.version}</td>
    </tr>`;
  });
  return html`<section class="summary">
      <h1>Fleet</h1>
      <p id="fleet-summary">
        ${nodes.length} node${nodes.length === 1 ? "" : "s"}, ${stale} stale (no heartbeat for
        ${staleAfterSeconds}
        s)${absent > 0 ? `, ${absent} absent` : ""}${
          scope.length > 0 ? ` · limited to ${scope.join(" ")}` : ""
        }
      </p>
      ${
        absent > 0
          ? html`<p class="hint">
              Absent hosts are accepted but send no heartbeat: every request that matches them waits
              for them and reports them <code>absent</code>, so no answer is all ok. A
              decommissioned host is retired with <code>nodes retire &lt;host&gt;</code>.
            </p>`
          : html``
      }
    </section>
    ${fleetCharts(nodes)}
    ${filterControls("filter hosts, facts, fingerprints", [
      ["all", "all"],
      ["stale", "stale"],
      ["absent", "absent"],
      ["live", "live"],
    ])}
    ${sortableTable(
      "nodes",
      ["host", "state", "facts", "last heartbeat", "key fingerprint", "version"],
      rows,
      "no nodes registered",
    )}
    ${waitingSection(waiting, now)}`;
}
