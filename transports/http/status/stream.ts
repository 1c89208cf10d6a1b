/**
 * `GET /ui/jobs/:id/events`: a server-sent event stream of one job. It subscribes first, then
 * sends a `snapshot` (job, progress so far and the server's clock, which the page's timeline
 * measures running hosts against), then each new `progress` event (skipping ones
 * the snapshot already held), and `end` with the final job once it finished. Comments keep
 * the connection alive; the job state is re-read on each so a missed message cannot leave a
 * stream open forever. The subscription is dropped when the browser goes away.
 */
import type { Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import type { JobLiveMessage, JobStore } from "../../../bot/jobs/types.ts";
import type { JobLiveHub } from "./live.ts";
import { drawable, jobView } from "./view.ts";

/** Timing of job streams. */
export interface StreamTiming {
  /** Interval of keep-alive comments and state re-reads. */
  readonly heartbeatMs: number;
  /** Longest a stream stays open; the browser reconnects and gets a fresh snapshot. */
  readonly maxStreamMs: number;
}

/** Default stream timing. */
export const DEFAULT_STREAM_TIMING: StreamTiming = { heartbeatMs: 15_000, maxStreamMs: 3_600_000 };
/** Browser reconnect delay sent with the snapshot. */
const RETRY_MS = 3_000;

async function finish(stream: SSEStreamingApi, jobs: JobStore, id: string): Promise<void> {
  const job = await jobs.get(id);
  if (job) await stream.writeSSE({ event: "end", data: JSON.stringify({ job: jobView(job) }) });
  else await stream.writeSSE({ event: "gone", data: "{}" });
}

/** Streams job `id` (already authorized) to the browser. */
export function jobStream(
  c: Context,
  id: string,
  jobs: JobStore,
  hub: JobLiveHub,
  timing: StreamTiming,
  onOpen: (delta: number) => void,
): Response {
  return streamSSE(c, async (stream) => {
    const queue: JobLiveMessage[] = [];
    let wake: (() => void) | undefined;
    let gone = false;
    const stop = () => {
      gone = true;
      wake?.();
    };
    stream.onAbort(stop);
    c.req.raw.signal.addEventListener("abort", stop, { once: true });
    const unsubscribe = await hub.subscribe(id, (m) => {
      queue.push(m);
      wake?.();
    });
    onOpen(1);
    const opened = Date.now();
    try {
      const job = await jobs.get(id);
      if (!job) return await stream.writeSSE({ event: "gone", data: "{}" });
      const events = (await jobs.events(id)).filter(drawable);
      const seen = new Set(events.map((e) => JSON.stringify(e)));
      await stream.writeSSE({
        event: "snapshot",
        retry: RETRY_MS,
        data: JSON.stringify({ job: jobView(job), events, now: Date.now() }),
      });
      if (job.state !== "running") return await finish(stream, jobs, id);
      while (!gone) {
        for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
          if (m.type === "finished") return await finish(stream, jobs, id);
          const key = JSON.stringify(m.entry);
          if (seen.delete(key) || !drawable(m.entry)) continue;
          await stream.writeSSE({ event: "progress", data: key });
        }
        const woken = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timing.heartbeatMs);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
          if (gone || queue.length > 0) wake();
        });
        wake = undefined;
        if (woken || gone) continue;
        await stream.write(": keep-alive\n\n");
        const now = await jobs.get(id);
        if (!now || now.state !== "running") return await finish(stream, jobs, id);
        if (Date.now() - opened > timing.maxStreamMs) return;
      }
    } finally {
      onOpen(-1);
      await unsubscribe();
    }
  });
}
