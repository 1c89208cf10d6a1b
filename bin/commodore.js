#!/usr/bin/env node
// Entry point of the `commodore` command: runs the compiled, bundled CLI in dist/cli-bundle/
// (`npm run build`, which `npm ci`, `npm pack` and `npm test` run for you).
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli-bundle/main.js", import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write(
    "commodore: dist/ is missing: run `npm run build` (npm ci and npm pack run it for you)\n",
  );
  process.exit(70);
}
const { main } = await import(compiled.href);
process.exitCode = await main(process.argv.slice(2));
