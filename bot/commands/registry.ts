/**
 * The command registry: looks commands up by name or alias and suggests near misses.
 */
import { OptionsError } from "../../lib/errors.ts";
import { suggest } from "../../lib/suggest.ts";
import { UnknownCommandError } from "./errors.ts";
import type { CommandSpec } from "./types.ts";

/** Holds every command the bot knows. */
export class CommandRegistry {
  private readonly byName = new Map<string, CommandSpec>();
  private readonly specs: CommandSpec[] = [];

  /** Adds a command; names and aliases must be unique and lower-case. */
  register(spec: CommandSpec): this {
    for (const name of [spec.name, ...spec.aliases]) {
      if (name !== name.toLowerCase() || !/^[a-z][a-z0-9-]*$/.test(name))
        throw new OptionsError(`command name "${name}" must be lower-case letters, digits, -`);
      if (this.byName.has(name)) throw new OptionsError(`command "${name}" registered twice`);
      this.byName.set(name, spec);
    }
    this.specs.push(spec);
    return this;
  }

  /** The command named `name` (case-insensitive, aliases too), or a did-you-mean error. */
  resolve(name: string): CommandSpec {
    const spec = this.byName.get(name.toLowerCase());
    if (spec) return spec;
    throw new UnknownCommandError(name, suggest(name.toLowerCase(), this.byName.keys()));
  }

  /** The command named `name`, or undefined. */
  find(name: string): CommandSpec | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Every command, in registration order. */
  all(): readonly CommandSpec[] {
    return this.specs;
  }
}
