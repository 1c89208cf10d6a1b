// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Deep imports into an executor: only its index.ts is public. */
const deepInto = (executor) => ({
  group: [`**/executors/${executor}/**`, `!**/executors/${executor}/index.ts`],
  message: `import the ${executor} executor through executors/${executor}/index.ts, its public API`,
});
/**
 * The fleet executor has a second public entry, agent-entry.ts (the agent alone, for the lean
 * `commodore agent` process); only the CLI's agent command and the agent's configuration
 * sections (config/agent.ts) use it.
 */
const deepIntoFleetFromAgentCommand = {
  group: [
    "**/executors/fleet/**",
    "!**/executors/fleet/index.ts",
    "!**/executors/fleet/agent-entry.ts",
  ],
  message:
    "import the fleet executor through executors/fleet/index.ts (or agent-entry.ts for the agent alone)",
};
const layer = (folder, why) => ({ group: [`**/${folder}/**`], message: why });
const TRANSPORT_LIBRARIES = {
  paths: [
    { name: "hono", message: "executors know nothing about HTTP (transports/http does)" },
    { name: "irc-framework", message: "executors know nothing about IRC (transports/irc does)" },
  ],
  patterns: [{ group: ["hono/*", "@hono/*"], message: "executors know nothing about HTTP" }],
};
const ABOVE_EXECUTORS = [
  layer("transports", "executors know nothing about transports"),
  layer("bot", "executors know nothing about the bot"),
  layer("app", "executors know nothing about the composition root"),
  layer("cli", "executors know nothing about the CLI"),
];

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "dist/**",
      "dist-bench/**",
      "state/**",
      ".state/**",
      "test-output/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", URL: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
      eqeqeq: ["error", "always"],
    },
  },
  // The architecture, enforced: lib at the bottom; executors below the bot and transports and
  // reached only through their index; the bot core below the transports; app/ and cli/ on top.
  {
    files: ["lib/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: ["executors", "transports", "bot", "app", "cli", "config"].map((f) =>
            layer(f, "lib/ is the bottom layer: it imports nothing of Commodore's parts"),
          ),
        },
      ],
    },
  },
  {
    files: ["executors/fleet/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          ...TRANSPORT_LIBRARIES,
          patterns: [
            ...TRANSPORT_LIBRARIES.patterns,
            ...ABOVE_EXECUTORS,
            layer("executors/provision", "the fleet executor does not depend on provisioning"),
          ],
        },
      ],
    },
  },
  {
    files: ["executors/provision/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          ...TRANSPORT_LIBRARIES,
          patterns: [...TRANSPORT_LIBRARIES.patterns, ...ABOVE_EXECUTORS, deepInto("fleet")],
        },
      ],
    },
  },
  {
    files: ["bot/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            deepInto("fleet"),
            deepInto("provision"),
            layer("transports", "the bot core knows nothing about transports"),
            layer("app", "the bot core does not depend on the composition root"),
            layer("cli", "the bot core does not depend on the CLI"),
          ],
        },
      ],
    },
  },
  {
    files: ["transports/**/*.ts", "config/**/*.ts"],
    ignores: ["config/agent.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            deepInto("fleet"),
            deepInto("provision"),
            layer("app", "only the composition root wires parts together"),
            layer("cli", "the CLI is on top"),
          ],
        },
      ],
    },
  },
  {
    files: ["app/**/*.ts", "cli/**/*.ts"],
    ignores: ["cli/commands/agent.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [deepInto("fleet"), deepInto("provision")] }],
    },
  },
  {
    files: ["config/agent.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            deepIntoFleetFromAgentCommand,
            layer("executors/provision", "an agent's configuration loads no provisioning"),
            layer("transports", "an agent's configuration loads no transport"),
            layer("bot", "an agent's configuration loads none of the bot"),
            layer("app", "only the composition root wires parts together"),
            layer("cli", "the CLI is on top"),
          ],
        },
      ],
    },
  },
  {
    files: ["cli/commands/agent.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [deepIntoFleetFromAgentCommand, deepInto("provision")] },
      ],
    },
  },
);
