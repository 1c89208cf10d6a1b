/**
 * `commodore keygen`: writes an ed25519 key pair (readable by OpenSSH) and prints the lines to
 * trust it: an allowed_signers line (controller keys) and a known-hosts line (agent keys).
 * With --from, prints the lines for an existing public key instead.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { errorMessage } from "../../lib/errors.ts";
import { generateKey, signerLine, parsePublicKeyLine } from "../../executors/fleet/index.ts";
import type { CliCommand, CliIo } from "../command.ts";
import { parseFlags } from "../command.ts";
import { InvalidArgumentError, MissingArgumentError } from "../errors.ts";

const NAME = "keygen";

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(NAME, argv, {
    out: { type: "string" },
    from: { type: "string" },
    principal: { type: "string" },
    hostname: { type: "string" },
    comment: { type: "string" },
  });
  let publicLine: string;
  if (values.from !== undefined) {
    try {
      publicLine = readFileSync(values.from, "utf8").trim();
    } catch (err) {
      throw new InvalidArgumentError(
        NAME,
        "--from",
        "a readable .pub file",
        `${values.from} (${errorMessage(err)})`,
      );
    }
  } else {
    if (values.out === undefined)
      throw new MissingArgumentError(NAME, "--out PATH (or --from PUBKEY)");
    const key = generateKey(values.out, values.comment ?? `commodore@${hostname()}`);
    io.stdout(`wrote ${key.privatePath} and ${key.publicPath}\n`);
    publicLine = key.publicLine;
  }
  const info = parsePublicKeyLine(publicLine);
  io.stdout(`fingerprint: ${info.fingerprint}\n`);
  io.stdout(
    `\n# agents' allowed_signers line (if this is a controller key):\n${signerLine(values.principal ?? "commodore", info.line)}\n`,
  );
  io.stdout(
    `\n# controller known hosts line (if this is an agent host key):\n${values.hostname ?? hostname()} ${info.line}\n`,
  );
  return 0;
}

/** The `keygen` subcommand. */
export const command: CliCommand = {
  name: NAME,
  usage: `Usage: commodore keygen --out PATH [--principal NAME] [--hostname NAME] [--comment TEXT]
       commodore keygen --from PUBKEY [--principal NAME] [--hostname NAME]

Writes an unencrypted ed25519 key (PATH, PATH.pub) usable by ssh-keygen, then prints the
allowed_signers line for agents (controller keys) and the known hosts line for the
controller (agent host keys). ssh-keygen -t ed25519 -N '' -f PATH works just as well.`,
  run,
};
