/**
 * Answers a verified request: built-ins, then configured intents. Read commands run at once;
 * `change` commands (and `dangerous` ones, when allowed at all) need a principal holding one
 * of `changeRoles` and a confirmed intent: Commodore answers `Dialog.ConfirmIntent` and keeps
 * the pending command in the session, and runs it only when the intent comes back `CONFIRMED`
 * for the same command.
 */
import type { Risk } from "../../bot/commands/types.ts";
import type { CommandHandler, Invocation, Principal } from "../../bot/contract.ts";
import type { Counter } from "../../lib/metrics.ts";
import type { Logger } from "../../lib/log.ts";
import { answerFor } from "./answer.ts";
import { builtinAnswer, fallbackAnswer } from "./builtins.ts";
import { intentCommand } from "./intents.ts";
import type { VoiceOptions } from "./options.ts";
import type { VoicePrincipalResolver } from "./principals.ts";
import type { VoiceEnvelope, VoiceIntent } from "./request.ts";
import { confirmIntent, say, silence } from "./response.ts";
import type { VoiceResponse } from "./response.ts";
import { runWithDeadline } from "./run.ts";

/** Session attribute holding the command awaiting confirmation. */
export const PENDING_COMMAND = "commodorePendingCommand";

/** What the dialog needs from the rest of the bot. */
export interface DialogDeps {
  readonly options: VoiceOptions;
  readonly handler: CommandHandler;
  /** Maps the assistant's ids to a principal; undefined for unknown accounts. */
  readonly resolvePrincipal: VoicePrincipalResolver;
  /** Risk of command text, as the bot's registry classifies it; undefined when not a command. */
  readonly commandRisk: (commandText: string) => Risk | undefined;
  readonly log: Logger;
  /** Counts intents by intent name and outcome. */
  readonly intents: Counter;
}

function listWords(words: readonly string[]): string {
  return words.length <= 1
    ? (words[0] ?? "")
    : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

async function execute(
  deps: DialogDeps,
  principal: Principal,
  command: string,
  intent: string,
  budgetMs: number,
): Promise<VoiceResponse> {
  const invocation: Invocation = {
    principal,
    transport: "voice",
    text: command,
    origin: `voice:${intent}`,
  };
  const state = await runWithDeadline(deps.handler, invocation, budgetMs, deps.log);
  deps.intents.inc({ intent, outcome: state.kind === "running" ? "running" : "executed" });
  return answerFor(state, command);
}

/** Answers a configured intent. */
async function intentAnswer(
  env: VoiceEnvelope,
  intent: VoiceIntent,
  deps: DialogDeps,
  budgetMs: number,
): Promise<VoiceResponse> {
  const config = deps.options.intents[intent.name];
  const outcome = (label: string) =>
    deps.intents.inc({ intent: config ? intent.name : "unknown", outcome: label });
  if (config === undefined) {
    outcome("unknown");
    return fallbackAnswer();
  }
  const system = env.context.System;
  const principal = deps.resolvePrincipal({
    applicationId: system.application.applicationId,
    userId: system.user.userId,
  });
  if (principal === undefined) {
    outcome("unknown-account");
    return say("I don't know this account, so I can't run commands for it.");
  }
  const mapped = intentCommand(config, intent);
  if (!mapped.ok) {
    outcome(`slot-${mapped.problem}`);
    const ask =
      mapped.problem === "missing" ? `Which ${mapped.slot}?` : `I can't use that ${mapped.slot}.`;
    const options = `I know ${listWords(mapped.allowed)}.`;
    return say(`${ask} ${options}`, { end: false, reprompt: `Which ${mapped.slot}? ${options}` });
  }
  const command = mapped.command;
  const risk = deps.commandRisk(command);
  if (risk === undefined) {
    outcome("bad-command");
    deps.log.warn("voice intent maps to an invalid command", { intent: intent.name });
    return say("That request maps to a command I can't run. Check the voice configuration.");
  }
  if (risk === "read") return await execute(deps, principal, command, intent.name, budgetMs);
  if (risk === "dangerous" && !deps.options.allowDangerous) {
    outcome("refused");
    return say("That command is too dangerous to run by voice.");
  }
  if (!principal.roles.some((role) => deps.options.changeRoles.includes(role))) {
    outcome("refused");
    return say("This account may not make changes by voice.");
  }
  if (intent.confirmationStatus === "DENIED") {
    outcome("denied");
    return say("Okay, cancelled.");
  }
  if (
    intent.confirmationStatus === "CONFIRMED" &&
    env.session?.attributes?.[PENDING_COMMAND] === command
  )
    return await execute(deps, principal, command, intent.name, budgetMs);
  outcome("confirm");
  return confirmIntent(intent, `Should I run ${command}?`, { [PENDING_COMMAND]: command });
}

/**
 * Answers one verified request. A command that runs gets `budgetMs` (default: the configured
 * answer deadline) before the answer says it is still running.
 */
export async function answerRequest(
  env: VoiceEnvelope,
  deps: DialogDeps,
  budgetMs = deps.options.answerDeadlineMs,
): Promise<VoiceResponse> {
  const intent = env.request.intent;
  const builtin = builtinAnswer(deps.options, env.request.type, intent?.name);
  if (builtin !== undefined) return builtin;
  if (intent === undefined) return silence();
  return await intentAnswer(env, intent, deps, budgetMs);
}
