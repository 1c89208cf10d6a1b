/**
 * `npm run bench:vs-ssh [-- --agents N --runs R]`: Commodore against the tools people would
 * use instead, on the same N hosts, all real processes on loopback:
 *
 * - N real `commodore agent` processes (own ssh-keygen host key, hostname bench-hNNN, fact
 *   address=127.0.1.i) on a private redis-server, keys accepted with `commodore nodes accept`;
 * - one real OpenSSH server (as test/harness/sshd.ts runs it: unprivileged config, own host
 *   key, one sshd process per 16 listen addresses) listening on 127.0.1.1 … 127.0.1.N, logging
 *   in a dedicated plain user `commodore-bench` whose login shell is /bin/sh;
 * - known_hosts pre-filled with that host key for every address (host key checking stays on);
 * - a bot (`commodore start`) on the same Redis with the controller key, serving HTTP.
 *
 * Then, median of R runs (after one unmeasured warm-up of each and a settle period; the runs
 * take turns, one of each tool per round, so a busier moment falls on all alike), it times
 * `commodore fleet uptime`, the same request to the running bot (`curl POST /fleet`: no process
 * start-up, the path chat and scripts take), `pdsh -R ssh -f N -w <addresses> uptime` and
 * `ansible all -i <inventory> -f N -m command -a uptime`, and prints pdsh/commodore and
 * ansible/commodore with the goals (>= 10x, >= 50x at N = 50), and the ratios to the bot. A run counts only if every host
 * answered. Installs pdsh, ansible and openssh-server with apt-get when missing (as root, like
 * .ci/run). Not part of `npm test`. Stops everything it started, also on Ctrl-C.
 *
 * Ansible runs with its defaults (ssh ControlPersist 60 s, so the measured runs reuse the
 * warm-up's connections), except ansible_python_interpreter=/usr/bin/python3, which spares it
 * the interpreter discovery round trip: both choices favour ansible.
 *
 * Needs root (sshd must switch to the bench user) and dist/ (`npm run build`). Knob:
 * BENCH_VS_SSH_SETTLE_MS=10000 (the pause before the measured runs).
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CLI,
  benchDir,
  canConnect,
  cliEnv,
  freePort,
  median,
  onCleanup,
  sshKeygen,
  spawnGroup,
  startRealFleet,
  type RealFleet,
  stopGroup,
  timed,
  waitUntil,
  type TimedRun,
} from "./real-fleet.ts";

const { values } = parseArgs({
  options: {
    agents: { type: "string", default: "50" },
    runs: { type: "string", default: "5" },
  },
});
const N = Number(values.agents);
const RUNS = Number(values.runs);
if (!Number.isInteger(N) || N < 1 || N > 254) throw new Error("--agents must be 1..254");
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error("--runs must be >= 1");

const GOAL_PDSH = 10;
const GOAL_ANSIBLE = 50;
const GOAL_AT = 50;
const USER = "commodore-bench";
const USER_HOME = "/var/tmp/commodore-bench-home";
const SSHD = "/usr/sbin/sshd";
const MAX_LISTEN_SOCKS = 16;
const RUN_TIMEOUT_MS = 300_000;
/** Random bytes of the bench bot's bearer token. */
const TOKEN_BYTES = 24;
/**
 * Pause after the warm-ups, before the measured runs: the agents just started (a deployed
 * fleet's have been up for days), and the warm-ups leave ssh connections and caches behind.
 */
const SETTLE_MS = Number(process.env["BENCH_VS_SSH_SETTLE_MS"] ?? "10000");
const addresses = Array.from({ length: N }, (_, i) => `127.0.1.${i + 1}`);
const hostnames = Array.from({ length: N }, (_, i) => `bench-h${String(i + 1).padStart(3, "0")}`);

function has(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs what is missing, as .ci/run does. */
function ensureTools(): void {
  const need: string[] = [];
  if (!has("pdsh")) need.push("pdsh");
  if (!has("ansible")) need.push("ansible");
  if (!existsSync(SSHD)) need.push("openssh-server");
  if (!has("ssh") || !has("ssh-keygen")) need.push("openssh-client");
  if (!has("redis-server")) need.push("redis-server");
  if (need.length === 0) return;
  process.stderr.write(`installing ${need.join(" ")}…\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env, timeout: 300_000 });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...need], {
    stdio: "inherit",
    env,
    timeout: 600_000,
  });
}

/** The dedicated login user: plain, /bin/sh, not locked (sshd without PAM refuses `!`). */
function ensureUser(): void {
  let entry = "";
  try {
    entry = execFileSync("getent", ["passwd", USER], { encoding: "utf8" });
  } catch {
    execFileSync("useradd", [
      "--system",
      "--shell",
      "/bin/sh",
      "--home-dir",
      USER_HOME,
      "--create-home",
      USER,
    ]);
    entry = execFileSync("getent", ["passwd", USER], { encoding: "utf8" });
  }
  if (entry.trim().split(":")[6] !== "/bin/sh") execFileSync("usermod", ["-s", "/bin/sh", USER]);
  execFileSync("usermod", ["-p", "*", USER]);
  mkdirSync(USER_HOME, { recursive: true });
  execFileSync("chown", [`${USER}:`, USER_HOME]);
}

interface Ssh {
  readonly port: number;
  readonly config: string;
  readonly inventory: string;
  readonly controlDir: string;
  stop(): Promise<void>;
}

/** sshd on every address, a client ssh_config, known_hosts and an ansible inventory. */
async function startSsh(): Promise<Ssh> {
  const dir = benchDir("commodore-bench-ssh-");
  chmodSync(dir, 0o755); // the bench user reads authorized_keys here
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const port = await freePort();
  const hostKey = await sshKeygen(dir, "ssh_host_ed25519_key", "bench-sshd");
  const clientKey = await sshKeygen(dir, "client", "bench-client");
  const authorized = join(dir, "authorized_keys");
  writeFileSync(authorized, readFileSync(`${clientKey}.pub`, "utf8"), { mode: 0o644 });
  const hostPub = readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, addresses.map((a) => `[${a}]:${port} ${hostPub}\n`).join(""));
  const config = join(dir, "ssh_config");
  writeFileSync(
    config,
    [
      "Host 127.0.1.*",
      `  Port ${port}`,
      `  User ${USER}`,
      `  IdentityFile ${clientKey}`,
      "  IdentitiesOnly yes",
      `  UserKnownHostsFile ${knownHosts}`,
      "  GlobalKnownHostsFile /dev/null",
      "  StrictHostKeyChecking yes",
      "  BatchMode yes",
      "  LogLevel ERROR",
      "",
    ].join("\n"),
  );
  const controlDir = join(dir, "cp");
  mkdirSync(controlDir);
  const inventory = join(dir, "inventory.ini");
  writeFileSync(
    inventory,
    [
      "[bench]",
      ...addresses,
      "",
      "[bench:vars]",
      `ansible_port=${port}`,
      `ansible_user=${USER}`,
      `ansible_ssh_private_key_file=${clientKey}`,
      `ansible_ssh_common_args='-F ${config}'`,
      "ansible_python_interpreter=/usr/bin/python3",
      "",
    ].join("\n"),
  );
  const children: ChildProcess[] = [];
  let tail = "";
  for (let i = 0; i * MAX_LISTEN_SOCKS < addresses.length; i++) {
    const chunk = addresses.slice(i * MAX_LISTEN_SOCKS, (i + 1) * MAX_LISTEN_SOCKS);
    const conf = join(dir, `sshd_config.${i}`);
    writeFileSync(
      conf,
      [
        `Port ${port}`,
        ...chunk.map((a) => `ListenAddress ${a}`),
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${authorized}`,
        `PidFile ${join(dir, `sshd.${i}.pid`)}`,
        "UsePAM no",
        "StrictModes no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        `AllowUsers ${USER}`,
        "Subsystem sftp internal-sftp",
        "MaxStartups 400:30:800",
        "MaxSessions 100",
        "UseDNS no",
        "LogLevel ERROR",
        "",
      ].join("\n"),
    );
    const child = spawnGroup(SSHD, ["-D", "-e", "-f", conf], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (d: Buffer) => (tail = (tail + d.toString("utf8")).slice(-4_000)));
    children.push(child);
  }
  await waitUntil(`sshd on ${addresses.length} addresses`, async () => {
    if (children.some((c) => c.exitCode !== null)) throw new Error(`sshd exited: ${tail}`);
    return (await Promise.all(addresses.map((a) => canConnect(a, port)))).every(Boolean);
  });
  // Ansible's ssh ControlPersist masters detach from their group: stop them by control socket
  // and, failing that, by pid (only processes naming this bench's own directory).
  onCleanup(() => stopControlMasters(controlDir));
  return {
    port,
    config,
    inventory,
    controlDir,
    async stop() {
      stopControlMasters(controlDir);
      await Promise.all(children.map((c) => stopGroup(c)));
    },
  };
}

function stopControlMasters(controlDir: string): void {
  if (!existsSync(controlDir)) return;
  for (const sock of readdirSync(controlDir)) {
    try {
      execFileSync("ssh", ["-S", join(controlDir, sock), "-O", "exit", "bench"], {
        stdio: "ignore",
        timeout: 5_000,
      });
    } catch {
      // already gone
    }
  }
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.startsWith("ssh") && cmd.includes(controlDir)) process.kill(Number(pid), "SIGTERM");
    } catch {
      // gone or not ours
    }
  }
}

type Check = (r: TimedRun) => string | undefined;

const everyHost =
  (lineFor: (address: string, hostname: string) => RegExp): Check =>
  (r) => {
    const missing = addresses.filter((a, i) => !lineFor(a, hostnames[i] ?? "").test(r.stdout));
    if (missing.length > 0) return `no answer from ${missing.length} hosts (${missing[0]}, …)`;
    if (r.code !== 0) return `exit ${r.code}`;
    return undefined;
  };

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A running bot: `commodore start` serving `POST /fleet`. */
interface Bot {
  readonly url: string;
  readonly token: string;
  stop(): Promise<void>;
}

/**
 * `commodore start` on the fleet's Redis, signing with the fleet's controller key (so it
 * believes the enrollment records `nodes accept` wrote), HTTP on a free loopback port, one
 * principal whose bearer token may run `fleet`: the long-running path chat and scripts use.
 */
async function startBot(fleet: RealFleet): Promise<Bot> {
  const port = await freePort();
  const token = randomBytes(TOKEN_BYTES).toString("hex");
  const config = join(fleet.dir, "bot.yaml");
  writeFileSync(
    config,
    [
      `redis: {url: ${JSON.stringify(fleet.redis.url)}}`,
      `log: {level: warn}`,
      // No confirmation step: the ssh tools have none either.
      `bot: {dangerousHostThreshold: ${N + 1}}`,
      `http: {enabled: true, listen: "127.0.0.1:${port}"}`,
      `roles: {bench: {grants: [{command: fleet}]}}`,
      `principals: [{id: bench-http, roles: [bench], http: {tokenSha256: ${createHash("sha256").update(token).digest("hex")}}}]`,
      `controller: {keyPath: ${JSON.stringify(fleet.keyPath)}, principal: ${fleet.principal}}`,
    ].join("\n"),
  );
  const state = join(fleet.dir, "bot-state");
  mkdirSync(state, { recursive: true });
  let err = "";
  const child = spawnGroup(process.execPath, [CLI, "start", "--config", config], {
    env: { ...cliEnv(), COMMODORE_STATE_DIR: state },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.on("data", (d: Buffer) => (err = (err + d.toString("utf8")).slice(-4_000)));
  await waitUntil("the bot's HTTP port", async () => {
    if (child.exitCode !== null) throw new Error(`commodore start exited: ${err}`);
    return await canConnect("127.0.0.1", port);
  });
  return { url: `http://127.0.0.1:${port}/fleet`, token, stop: () => stopGroup(child) };
}

/** A `POST /fleet` answer in which every host completed. */
const everyHostOverHttp: Check = (r) => {
  let body: { summary?: { ok?: number }; resps?: { hostname?: string }[] };
  try {
    body = JSON.parse(r.stdout) as typeof body;
  } catch {
    return `not JSON: ${r.stdout.slice(0, 200)}`;
  }
  if (body.summary?.ok !== N) return `${body.summary?.ok ?? 0}/${N} hosts ok`;
  const answered = new Set((body.resps ?? []).map((x) => x.hostname));
  const missing = hostnames.filter((h) => !answered.has(h));
  return missing.length > 0
    ? `no answer from ${missing.length} hosts (${missing[0]}, …)`
    : undefined;
};

/** One tool under test: how to run it and how to tell a run where every host answered. */
interface Tool {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly check: Check;
  /** A figure the tool reports about itself (ms), e.g. commodore's round time. */
  readonly reported?: (r: TimedRun) => number;
}

interface Measured {
  readonly name: string;
  readonly warmup: number;
  readonly runs: number[];
  readonly reported: number[];
}

/** One run of `tool`; throws unless every host answered. */
async function once(tool: Tool, label: string): Promise<TimedRun> {
  const r = await timed(tool.command, tool.args, { env: tool.env, timeoutMs: RUN_TIMEOUT_MS });
  const problem = tool.check(r);
  if (problem !== undefined)
    throw new Error(
      `${tool.name} ${label}: ${problem}\n${r.stdout.slice(-2_000)}${r.stderr.slice(-2_000)}`,
    );
  process.stderr.write(`  ${tool.name} ${label}: ${r.wallMs.toFixed(0)} ms\n`);
  return r;
}

/**
 * A warm-up of each tool, a settle period, then {@link RUNS} rounds in which every tool runs
 * once in turn, so a busier moment of the machine falls on all of them alike.
 */
async function measureAll(tools: readonly Tool[]): Promise<Measured[]> {
  const results = [];
  for (const tool of tools)
    results.push({
      name: tool.name,
      warmup: (await once(tool, "warm-up")).wallMs,
      runs: [] as number[],
      reported: [] as number[],
    });
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  for (let i = 0; i < RUNS; i++) {
    for (const [t, tool] of tools.entries()) {
      const r = await once(tool, `run ${i + 1}`);
      const result = results[t];
      result?.runs.push(r.wallMs);
      if (tool.reported) result?.reported.push(tool.reported(r));
    }
  }
  return results;
}

if (process.getuid?.() !== 0) {
  console.error("bench:vs-ssh must run as root (sshd switches to the bench user)");
  process.exit(1);
}
ensureTools();
ensureUser();
console.log(
  `bench:vs-ssh, ${N} hosts, median of ${RUNS} runs after one warm-up; ${availableParallelism()} cores ` +
    `(${cpus()[0]?.model ?? "?"}), node ${process.version}, ${new Date().toISOString()}`,
);
process.stderr.write(`starting sshd on ${N} addresses, redis-server and ${N} agents…\n`);
const ssh = await startSsh();
const fleet = await startRealFleet(
  N,
  (i) => hostnames[i] ?? "",
  (i) => ({ address: addresses[i] ?? "" }),
);
const bot = await startBot(fleet);
try {
  const base = cliEnv();
  const [commodore, viaBot, pdsh, ansible] = await measureAll([
    {
      name: "commodore",
      command: process.execPath,
      args: [CLI, "fleet", "uptime", ...fleet.flags],
      env: base,
      check: (r) =>
        new RegExp(`^${N}/${N} hosts ok in`, "m").test(r.stdout)
          ? everyHost((_, h) => new RegExp(`^${esc(h)}: .*up`, "m"))(r)
          : "not every host ok",
      reported: (r) => Number(/^\d+\/\d+ hosts ok in (\d+) ms/m.exec(r.stdout)?.[1]),
    },
    {
      name: "bot HTTP",
      command: "curl",
      args: [
        "-sS",
        "-X",
        "POST",
        "-H",
        `Authorization: Bearer ${bot.token}`,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"args":["uptime"]}',
        bot.url,
      ],
      env: base,
      check: everyHostOverHttp,
    },
    {
      name: "pdsh",
      command: "pdsh",
      args: ["-R", "ssh", "-f", String(N), "-w", addresses.join(","), "uptime"],
      env: { ...base, PDSH_SSH_ARGS: `-F ${ssh.config} %h` },
      check: everyHost((a) => new RegExp(`^${esc(a)}: .*up`, "m")),
    },
    {
      name: "ansible",
      command: "ansible",
      args: ["all", "-i", ssh.inventory, "-f", String(N), "-m", "command", "-a", "uptime"],
      env: {
        ...base,
        ANSIBLE_SSH_CONTROL_PATH_DIR: ssh.controlDir,
        ANSIBLE_LOCAL_TEMP: join(ssh.controlDir, "..", "ansible-local"),
        ANSIBLE_NOCOLOR: "1",
      },
      check: everyHost((a) => new RegExp(`^${esc(a)} \\| CHANGED \\| rc=0 >>\\n.*up`, "m")),
    },
  ]);
  if (!commodore || !viaBot || !pdsh || !ansible) throw new Error("a tool was not measured");
  const c = median(commodore.runs);
  const fmt = (v: number) => v.toFixed(0);
  console.log(`${"tool".padEnd(10)} ${"median ms".padStart(9)}  warm-up  runs (ms)`);
  for (const t of [commodore, viaBot, pdsh, ansible])
    console.log(
      `${t.name.padEnd(10)} ${fmt(median(t.runs)).padStart(9)}  ${fmt(t.warmup).padStart(7)}  ${t.runs.map(fmt).join(", ")}`,
    );
  console.log(
    `commodore's own round (the "hosts ok in X ms" it prints): median ${fmt(median(commodore.reported))} ms; ` +
      `the rest of its wall time is process start-up, connecting and exit`,
  );
  const rp = median(pdsh.runs) / c;
  const ra = median(ansible.runs) / c;
  const at = N === GOAL_AT ? "" : ` (goals are for N=${GOAL_AT}; this is N=${N})`;
  console.log(
    `pdsh / commodore = ${rp.toFixed(2)}x (goal >= ${GOAL_PDSH}x): ${rp >= GOAL_PDSH ? "met" : "NOT met"}${at}`,
  );
  console.log(
    `ansible / commodore = ${ra.toFixed(2)}x (goal >= ${GOAL_ANSIBLE}x): ${ra >= GOAL_ANSIBLE ? "met" : "NOT met"}${at}`,
  );
  const b = median(viaBot.runs);
  console.log(
    `the same request to a running bot (curl POST /fleet; no goal, the goals are the CLI's): ` +
      `pdsh / bot = ${(median(pdsh.runs) / b).toFixed(2)}x, ansible / bot = ` +
      `${(median(ansible.runs) / b).toFixed(2)}x`,
  );
} finally {
  await bot.stop();
  await fleet.stop();
  await ssh.stop();
}
