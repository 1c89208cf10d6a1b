/** `POST /commands` with `{"command": "fleet uptime where role=web"}` runs any command. */
import { z } from "zod";
import { MAX_COMMAND_LENGTH } from "../../../bot/commands/tokenize.ts";
import type { CommandHandler } from "../../../bot/contract.ts";
import { readJson } from "../body.ts";
import type { HttpApp } from "../context.ts";
import { respond } from "../respond.ts";
import { runCommand } from "../run.ts";

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
    const outcome = await runCommand(bot, {
      principal: c.get("principal"),
      transport: "http",
      text: body.command,
      origin: "POST /commands",
    });
    return respond(c, outcome);
  });
}
