/**
 * Formats the bot's non-fleet events and results as IRC lines (before sanitizing/splitting).
 */
import type { BotEvent, CommandResult } from "../../../bot/contract.ts";
import { enrollmentTag } from "../../../bot/format/result.ts";
import { formatFleetResult, type FormattedResult } from "./fleet.ts";

type ErrorEvent = Extract<BotEvent, { type: "error" }>;
type ConfirmEvent = Extract<BotEvent, { type: "confirm" }>;

/** `you may not run fleet restart (E_PERMISSION_DENIED; ask an admin for role ops)`. */
export function formatError(event: ErrorEvent): string {
  const hint = event.hint === undefined ? "" : `; ${event.hint}`;
  return `${event.message} (${event.code}${hint})`;
}

/** Time of day in UTC, `HH:MM:SS`. */
function clock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(11, 19)} UTC`;
}

/** Explains a pending confirmation and how to give it. */
export function formatConfirm(event: ConfirmEvent): string {
  const who = event.needsOtherPerson ? "another operator must say" : "say";
  return `${event.summary}; to go ahead ${who} "confirm ${event.code}" before ${clock(event.expiresAt)}`;
}

function withSummary(lines: readonly string[], summary: string): FormattedResult {
  return { lines, summary };
}

/** Formats any command result into lines plus a one-line summary. */
export function formatResult(result: CommandResult): FormattedResult {
  switch (result.kind) {
    case "fleet":
      return formatFleetResult(result.fleet);
    case "nodes": {
      const lines = result.nodes.map((n) => {
        const facts = Object.entries(n.facts)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ");
        return `${n.hostname}: ${enrollmentTag(n)}${facts} (agent ${n.version}, last seen ${n.lastSeen})`;
      });
      const summary = `${result.nodes.length} node${result.nodes.length === 1 ? "" : "s"}`;
      return withSummary(lines.length === 0 ? ["no nodes registered"] : lines, summary);
    }
    case "text":
    case "data": {
      const title = result.title;
      const lines = title === undefined ? result.lines : [title, ...result.lines];
      const summary = title ?? `${result.lines.length} lines of output`;
      return withSummary(lines.length === 0 ? ["(no output)"] : lines, summary);
    }
  }
}
