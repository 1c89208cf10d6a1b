/**
 * Redis key layout of the provisioning queue, all under one configurable prefix. The prefix
 * carries a hash tag (`{commodore:provision}:` by default, see options.ts) so every key lands
 * in one Redis Cluster slot: the Lua scripts touch several of them and derive job and worker
 * keys inside the script.
 */

/** Key names for one prefix. */
export interface QueueKeys {
  readonly prefix: string;
  /** INCR counter for job ids. */
  readonly seq: string;
  /** LIST of runnable job ids, FIFO. */
  readonly pending: string;
  /** ZSET of retrying job ids scored by due time (ms). */
  readonly delayed: string;
  /** SET of running job ids (its size is the global concurrency). */
  readonly running: string;
  /** STRING per host holding its pending or running job id. */
  host(host: string): string;
  /** HASH per job. */
  job(id: string): string;
  /** STRING per live worker, kept alive by heartbeats. */
  worker(id: string): string;
}

/** Builds the key names for `prefix` (e.g. `{commodore:provision}:`). */
export function queueKeys(prefix: string): QueueKeys {
  return {
    prefix,
    seq: `${prefix}seq`,
    pending: `${prefix}pending`,
    delayed: `${prefix}delayed`,
    running: `${prefix}running`,
    host: (host) => `${prefix}host:${host}`,
    job: (id) => `${prefix}job:${id}`,
    worker: (id) => `${prefix}worker:${id}`,
  };
}

/** Shape of job ids handed out by the queue. */
export const JOB_ID = /^prov-\d{1,15}$/;
