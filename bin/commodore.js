#!/usr/bin/env node
// Entry point of the `commodore` command: loads the TypeScript sources through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../bot/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
