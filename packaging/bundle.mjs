// Bundles the compiled CLI (dist/cli/main.js, from `tsc`) with its dependencies into
// dist/cli-bundle/: one chunk per lazily loaded command, so `commodore fleet ping` reads and
// compiles a few files instead of a few hundred modules (Node 20 has no module compile cache;
// loading the module graph was about half of a short CLI call). Source maps chain through tsc's
// to the TypeScript sources. Run by `npm run build`; bin/commodore.js starts the bundle.
import { cpSync } from "node:fs";
import { build } from "esbuild";

const OUT = "dist/cli-bundle";

await build({
  entryPoints: ["dist/cli/main.js"],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.11",
  outdir: OUT,
  sourcemap: "linked",
  logLevel: "warning",
  // CommonJS dependencies (ioredis, sshpk, …) call require(), which an ES module lacks. They
  // get no __dirname: the one use on our paths, ioredis reading its own package.json for
  // CLIENT SETINFO, catches the error and reports "error-fetching-version" (cosmetic).
  banner: {
    js: 'import { createRequire as createRequireForBundle } from "node:module"; const require = createRequireForBundle(import.meta.url);',
  },
});
// The status page reads its static files beside the module that serves them.
cpSync("transports/http/status/assets", `${OUT}/assets`, { recursive: true });
