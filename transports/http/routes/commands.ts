/**
 * `POST /commands` with `{"command": "fleet uptime where role=web"}` runs any command; with
 * `Prefer: respond-async` it answers 202 and `Location: /jobs/<id>` as soon as the job exists.
 */
import { z } from "zod";
import { MAX_COMMAND_LENGTH } from "../../../bot/commands/tokenize.ts";
import type { CommandHandler } from "../../../bot/contract.ts";
import { readJson } from "../body.ts";
import type { HttpApp } from "../context.ts";
import { respond, respondStarted } from "../respond.ts";
import { prefersAsync, runCommand, startCommand } from "../run.ts";

/** The request body. */
export const commandBody = z
  .object({
    command: z
      .string()
      .min(1, 'a non-empty command such as "fleet uptime"')
      .max(MAX_COMMAND_LENGTH, `at most ${MAX_COMMAND_LENGTH} characters`),
  })
  .strict();

/** Registers `POST /commands`. */
export function commandsRoute(app: HttpApp, bot: CommandHandler): void {
  app.post("/commands", async (c) => {
    const body = await readJson(c, commandBody);
    const invocation = {
      principal: c.get("principal"),
      transport: "http" as const,
      text: body.command,
      origin: "POST /commands",
    };
    if (prefersAsync(c.req.header("prefer")))
      return respondStarted(c, await startCommand(bot, invocation));
    return respond(c, await runCommand(bot, invocation));
  });
}
