/**
 * Environment overrides for the usual suspects, applied to the raw document before
 * validation so errors can say which variable a bad value came from.
 */

/** Variables Commodore reads, and the configuration path each one sets. */
export const ENV_OVERRIDES = {
  REDIS_URL: "redis.url",
  COMMODORE_HTTP_LISTEN: "http.listen",
  COMMODORE_LOG_LEVEL: "log.level",
  LOG_LEVEL: "log.level",
} as const;

type Raw = Record<string, unknown>;

function section(raw: Raw, key: string): Raw {
  const cur = raw[key];
  if (cur !== null && typeof cur === "object" && !Array.isArray(cur)) return cur as Raw;
  const fresh: Raw = {};
  raw[key] = fresh;
  return fresh;
}

/**
 * Applies overrides to `raw` in place and returns path → variable for the ones applied.
 * `PORT` replaces only the port of `http.listen`; `COMMODORE_HTTP_LISTEN` wins over it.
 */
export function applyEnvOverrides(raw: Raw, env: NodeJS.ProcessEnv): Map<string, string> {
  const applied = new Map<string, string>();
  const port = env["PORT"];
  if (port !== undefined && port !== "") {
    const http = section(raw, "http");
    const listen = typeof http["listen"] === "string" ? http["listen"] : "127.0.0.1:8080";
    http["listen"] = `${listen.replace(/:[^:\]]*$/, "")}:${port}`;
    applied.set("http.listen", "PORT");
  }
  const order: Array<keyof typeof ENV_OVERRIDES> = [
    "LOG_LEVEL",
    "COMMODORE_LOG_LEVEL",
    "REDIS_URL",
    "COMMODORE_HTTP_LISTEN",
  ];
  for (const name of order) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    const [top, leaf] = ENV_OVERRIDES[name].split(".") as [string, string];
    section(raw, top)[leaf] = value;
    applied.set(ENV_OVERRIDES[name], name);
  }
  return applied;
}
