/**
 * Public-key checks on worker threads, in batches. Everything around the check (decoding the
 * SSHSIG blob, the namespace, the pinned key, hashing the message) stays on the caller's thread;
 * a worker only runs `crypto.verify` over bytes it is handed and answers valid or not, so a
 * thread cannot change what is checked, only spread it over the cores.
 *
 * Why worker threads and not node:crypto's callback form (libuv's thread pool): that hands each
 * check to the pool alone, two thread wake-ups per signature, which cost 40-60 % of an ed25519
 * verify in CPU on the development machine (2 cores). Handing a batch to a sleeping worker costs
 * about 1.5 verifies there, whatever its size, so the pool only hands over batches of at least
 * {@link MIN_BATCH} checks (up to {@link BATCH_MAX}, as many as are waiting when a thread is
 * free) and checks smaller remainders on the caller's thread at once: a trickle of replies costs
 * no hand-off at all, a flood keeps every thread busy and the event loop free. Threads add
 * capacity, not efficiency: on that machine, with the benchmark's simulated agents keeping both
 * cores busy, the controller spent 10-35 % more CPU per reply with one thread than with none
 * (`verifyConcurrency: 0`) and its rounds were no faster; threads pay off where the controller
 * has cores to itself and its event loop falls behind.
 *
 * Threads start on first use, process-wide, as many as the largest {@link reserveVerifyThreads}
 * asked for (at most one per usable core); until one is up, checks run on the caller's thread,
 * so a cold start adds no latency. An idle thread is unreferenced: it never keeps the process
 * alive; one idle for {@link THREAD_IDLE_MS} exits, giving back its isolate and its copy of the
 * keys (about 30 MiB at 10 000 nodes), and the next flood starts it again. A thread that dies
 * has its checks redone on the caller's thread; after {@link MAX_THREAD_FAILURES} deaths the
 * pool stops starting threads and checks everything in-thread.
 */
import { verify as cryptoVerify, type KeyObject } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** Most checks handed to one thread in one message. */
export const BATCH_MAX = 64;
/** Fewest checks worth a hand-off; fewer waiting are checked on the caller's thread. */
export const MIN_BATCH = 32;
/**
 * Checks a caller should keep queued per thread so none waits for work between two batches:
 * the batch running and the next one.
 */
export const IN_FLIGHT_PER_THREAD = 2 * BATCH_MAX;
/** Deaths after which the pool gives up on threads and checks in-thread. */
export const MAX_THREAD_FAILURES = 3;
/**
 * A thread idle this long exits (a long-running controller keeps no thread between bursts);
 * the next batch starts a new one.
 */
export const THREAD_IDLE_MS = 15_000;
/** Keys a thread remembers before it is told to forget them all (one per distinct signer). */
const KEYS_PER_THREAD_MAX = 100_000;

/** Digests a call may name on a thread, by the code the thread receives (index). */
const ALGORITHMS: readonly (string | null)[] = [null, "sha256", "sha384", "sha512"];
/** Bits of the mode byte that hold the index into {@link ALGORITHMS}. */
const ALGORITHM_MASK = 3;
/** Flag on the mode byte: the signature is ECDSA r||s (IEEE P1363), not DER. */
const IEEE_P1363 = 4;

/** One node:crypto verification, ready to run on any thread. */
export interface CryptoCall {
  /** `null` for ed25519, else the digest (`sha256`, `sha384`, `sha512`). */
  readonly algorithm: string | null;
  readonly data: Buffer;
  readonly key: KeyObject;
  /** ECDSA signatures given as r||s rather than DER. */
  readonly ieeeP1363: boolean;
  readonly signature: Buffer;
}

/** Runs `call` on this thread; a call node:crypto refuses is simply not valid. */
export function runCryptoCall(call: CryptoCall): boolean {
  try {
    const key = call.ieeeP1363 ? { key: call.key, dsaEncoding: "ieee-p1363" as const } : call.key;
    return cryptoVerify(call.algorithm, call.data, key, call.signature);
  } catch {
    return false;
  }
}

/** What a thread receives: the calls of one batch, their bytes packed into one buffer. */
interface BatchMessage {
  /** Forget every key before adding `keyIds`. */
  readonly reset: boolean;
  readonly keyIds: readonly number[];
  readonly newKeys: readonly KeyObject[];
  /** Per call: the key id. */
  readonly keys: Uint32Array;
  /** Per call: algorithm code, plus {@link IEEE_P1363}. */
  readonly modes: Uint8Array;
  /** Per call: length of its data, then of its signature. */
  readonly sizes: Uint32Array;
  /** Every call's data then signature, back to back. */
  readonly bytes: ArrayBuffer;
}

/**
 * The thread's code, plain CommonJS so it runs the same from sources and from dist/ without a
 * loader. Answers one byte per call: 1 valid, 0 not.
 */
const WORKER_SOURCE = `"use strict";
const { parentPort } = require("node:worker_threads");
const { verify } = require("node:crypto");
const ALGORITHMS = ${JSON.stringify(ALGORITHMS)};
const keys = new Map();
parentPort.on("message", (m) => {
  if (m.reset) keys.clear();
  for (let i = 0; i < m.keyIds.length; i++) keys.set(m.keyIds[i], m.newKeys[i]);
  const bytes = Buffer.from(m.bytes);
  const out = new Uint8Array(m.modes.length);
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    const data = bytes.subarray(at, (at += m.sizes[2 * i]));
    const signature = bytes.subarray(at, (at += m.sizes[2 * i + 1]));
    const key = keys.get(m.keys[i]);
    const mode = m.modes[i];
    try {
      const k = mode & ${IEEE_P1363} ? { key, dsaEncoding: "ieee-p1363" } : key;
      out[i] = verify(ALGORITHMS[mode & ${ALGORITHM_MASK}], data, k, signature) ? 1 : 0;
    } catch {
      out[i] = 0;
    }
  }
  parentPort.postMessage(out, [out.buffer]);
});
`;

interface Job {
  readonly call: CryptoCall;
  readonly resolve: (valid: boolean) => void;
}

interface Thread {
  readonly worker: Worker;
  online: boolean;
  /** Key ids this thread holds. */
  readonly known: Set<number>;
  /** The batch it is working on. */
  batch: readonly Job[] | undefined;
  /** Ends the thread once it has been idle for the pool's idle time. */
  idle: NodeJS.Timeout | undefined;
  /** Ended for idleness: its exit is not a failure. */
  retired: boolean;
}

/** Small ids for keys, so a thread is sent each key once. */
const keyIds = new WeakMap<KeyObject, number>();
let nextKeyId = 1;

function keyId(key: KeyObject): number {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = nextKeyId++;
    keyIds.set(key, id);
  }
  return id;
}

/** Where a pool's checks ran, since it was made. */
export interface VerifyCounts {
  /** On the caller's thread: no thread reserved or up, or too few waiting for a hand-off. */
  inline: number;
  /** On a verification thread. */
  threaded: number;
}

/** Worker threads that verify batches of {@link CryptoCall}s. */
export class VerifyPool {
  private readonly threads: Thread[] = [];
  private queue: Job[] = [];
  /** Threads to run (0: every check in-thread). */
  private size = 0;
  private failures = 0;
  private flushScheduled = false;
  /** Where checks ran (the benchmark reports it). */
  readonly counts: VerifyCounts = { inline: 0, threaded: 0 };

  /**
   * `source` is the threads' code (tests replace it to make threads fail); `idleMs` how long a
   * thread may idle before it exits.
   */
  constructor(
    private readonly source: string = WORKER_SOURCE,
    private readonly idleMs: number = THREAD_IDLE_MS,
  ) {}

  /** Threads the pool holds now: started, and neither dead nor retired for idleness. */
  get running(): number {
    return this.threads.length;
  }

  /**
   * Makes the pool run at least `threads` threads (started on first use), at most one per
   * usable core: more could only wait for a core.
   */
  reserve(threads: number): void {
    this.size = Math.min(availableParallelism(), Math.max(this.size, Math.floor(threads)));
  }

  /** Whether `call` verifies; checked on a pool thread when one is up, else in-thread. */
  verify(call: CryptoCall): Promise<boolean> {
    if (this.size === 0 || !ALGORITHMS.includes(call.algorithm))
      return Promise.resolve(this.inline(call));
    return new Promise((resolve) => {
      this.queue.push({ call, resolve });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      // Checks asked for in the same tick leave together.
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush();
      });
    });
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    this.start();
    const ready = this.threads.filter((t) => t.online);
    const idle = ready.filter((t) => t.batch === undefined);
    // As many idle threads as can each get at least MIN_BATCH, sharing the queue evenly.
    const used = Math.min(idle.length, Math.floor(this.queue.length / MIN_BATCH));
    for (let i = 0; i < used; i++) {
      const thread = idle[i];
      const share = Math.min(BATCH_MAX, Math.ceil(this.queue.length / (used - i)));
      if (thread) this.send(thread, this.queue.splice(0, share));
    }
    // Too few to be worth a hand-off, or no thread is up yet (or threads were given up on):
    // check them here. What is left beyond that waits for a busy thread, which comes back.
    if (this.queue.length < MIN_BATCH || ready.length === 0) {
      const jobs = this.queue;
      this.queue = [];
      for (const job of jobs) job.resolve(this.inline(job.call));
    }
  }

  private inline(call: CryptoCall): boolean {
    this.counts.inline++;
    return runCryptoCall(call);
  }

  private start(): void {
    if (this.failures >= MAX_THREAD_FAILURES) return;
    while (this.threads.length < this.size) {
      const worker = new Worker(this.source, { eval: true, execArgv: [] });
      const thread: Thread = {
        worker,
        online: false,
        known: new Set(),
        batch: undefined,
        idle: undefined,
        retired: false,
      };
      worker.on("online", () => {
        thread.online = true;
        this.idleFrom(thread);
        this.flush();
      });
      worker.on("message", (out: Uint8Array) => this.settle(thread, out));
      worker.on("error", () => this.lose(thread));
      worker.on("exit", () => this.lose(thread));
      // After the listeners: adding a message listener references the port again.
      worker.unref();
      this.threads.push(thread);
    }
  }

  private send(thread: Thread, jobs: Job[]): void {
    const reset = thread.known.size >= KEYS_PER_THREAD_MAX;
    if (reset) thread.known.clear();
    const ids: number[] = [];
    const newKeys: KeyObject[] = [];
    const keys = new Uint32Array(jobs.length);
    const modes = new Uint8Array(jobs.length);
    const sizes = new Uint32Array(2 * jobs.length);
    let total = 0;
    for (const [i, { call }] of jobs.entries()) {
      const id = keyId(call.key);
      if (!thread.known.has(id)) {
        thread.known.add(id);
        ids.push(id);
        newKeys.push(call.key);
      }
      keys[i] = id;
      modes[i] = ALGORITHMS.indexOf(call.algorithm) | (call.ieeeP1363 ? IEEE_P1363 : 0);
      sizes[2 * i] = call.data.length;
      sizes[2 * i + 1] = call.signature.length;
      total += call.data.length + call.signature.length;
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const { call } of jobs) {
      bytes.set(call.data, at);
      at += call.data.length;
      bytes.set(call.signature, at);
      at += call.signature.length;
    }
    const message: BatchMessage = {
      reset,
      keyIds: ids,
      newKeys,
      keys,
      modes,
      sizes,
      bytes: bytes.buffer,
    };
    thread.batch = jobs;
    clearTimeout(thread.idle);
    thread.worker.ref();
    thread.worker.postMessage(message, [bytes.buffer, keys.buffer, modes.buffer, sizes.buffer]);
  }

  private settle(thread: Thread, out: Uint8Array): void {
    const jobs = thread.batch ?? [];
    thread.batch = undefined;
    thread.worker.unref();
    this.counts.threaded += jobs.length;
    this.flush();
    if (thread.batch === undefined) this.idleFrom(thread);
    for (const [i, job] of jobs.entries()) job.resolve(out[i] === 1);
  }

  /** Ends `thread` after {@link idleMs} without a batch. */
  private idleFrom(thread: Thread): void {
    clearTimeout(thread.idle);
    thread.idle = setTimeout(() => {
      if (thread.batch !== undefined) return;
      thread.retired = true;
      const at = this.threads.indexOf(thread);
      if (at >= 0) this.threads.splice(at, 1);
      void thread.worker.terminate();
    }, this.idleMs);
    thread.idle.unref();
  }

  /** A thread died: its batch is checked here, and a replacement starts on the next flush. */
  private lose(thread: Thread): void {
    const at = this.threads.indexOf(thread);
    if (thread.retired || at < 0) return;
    clearTimeout(thread.idle);
    this.threads.splice(at, 1);
    this.failures++;
    const jobs = thread.batch ?? [];
    thread.batch = undefined;
    void thread.worker.terminate();
    for (const job of jobs) job.resolve(this.inline(job.call));
    this.flush();
  }
}

/** The process-wide pool every asynchronous SSHSIG check goes through. */
export const verifyPool = new VerifyPool();

/** Makes the process-wide pool run at least `threads` verification threads. */
export function reserveVerifyThreads(threads: number): void {
  verifyPool.reserve(threads);
}
