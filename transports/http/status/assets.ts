/**
 * The hand-written front end under ./assets, read once at start and served from memory; only
 * these files exist under /ui/static.
 */
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";

const TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** One static file. */
export interface Asset {
  readonly body: string;
  readonly type: string;
}

/** Every .js and .css file in `dir` by name. */
export function loadAssets(dir: string = join(import.meta.dirname, "assets")): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type !== undefined) assets.set(name, { body: readFileSync(join(dir, name), "utf8"), type });
  }
  return assets;
}
