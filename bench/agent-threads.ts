/**
 * Runs the simulated fleet in worker threads, split evenly. Workers are ordinary ESM threads
 * that load TypeScript through tsx's register API (a worker does not inherit `--import tsx`).
 */
import { Worker } from "node:worker_threads";
import type { AgentHostData, AgentHostReport } from "./agent-host.ts";

const HOST_URL = new URL("./agent-host.ts", import.meta.url).href;
const BOOT = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(HOST_URL)}); })`;

/** Agent threads that can be stopped. */
export interface AgentThreads {
  stop(): Promise<void>;
}

function next(worker: Worker, want: AgentHostReport["kind"]): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (report: AgentHostReport) => {
      worker.off("error", reject);
      if (report.kind === want) resolve();
      else reject(new Error(report.kind === "failed" ? report.error : `unexpected ${report.kind}`));
    };
    worker.once("message", onMessage);
    worker.once("error", reject);
  });
}

/** Starts `size` agents over `threads` worker threads and waits until all registered. */
export async function startAgentThreads(
  base: Omit<AgentHostData, "first" | "count">,
  size: number,
  threads: number,
): Promise<AgentThreads> {
  const n = Math.max(1, Math.min(threads, size));
  const workers: Worker[] = [];
  const ready: Promise<void>[] = [];
  for (let t = 0; t < n; t++) {
    const first = Math.floor((t * size) / n);
    const count = Math.floor(((t + 1) * size) / n) - first;
    const workerData: AgentHostData = { ...base, first, count };
    const worker = new Worker(BOOT, { eval: true, workerData });
    workers.push(worker);
    ready.push(next(worker, "ready"));
  }
  await Promise.all(ready);
  return {
    async stop() {
      await Promise.all(
        workers.map(async (w) => {
          const stopped = next(w, "stopped");
          w.postMessage("stop");
          await stopped;
          await w.terminate();
        }),
      );
    },
  };
}
