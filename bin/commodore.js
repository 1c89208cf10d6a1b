#!/usr/bin/env node
// Entry point of the `commodore` command: runs the compiled, bundled CLI in dist/cli-bundle/
// (`npm run build`, which `npm ci`, `npm pack` and `npm test` run for you).
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli-bundle/main.js", import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write(
    "commodore: dist/cli-bundle/ is missing: run `npm run build` (npm ci and npm pack run it for you)\n",
  );
  process.exit(70);
}
/**
 * The long-running services map their stack traces through the source maps to the TypeScript,
 * switched on before anything loads (Node maps only what loads after). Short commands skip
 * reading the maps (~10 % of a `fleet ping`); NODE_OPTIONS=--enable-source-maps maps theirs too.
 */
const SERVICES = new Set(["start", "agent"]);
if (SERVICES.has(process.argv[2] ?? "")) process.setSourceMapsEnabled(true);
const { main } = await import(compiled.href);
process.exitCode = await main(process.argv.slice(2));
