/**
 * The plug point between the bot and the things that act on the world.
 *
 * The bot turns a command into a call of `execute`; the executor reports progress through the
 * context and resolves with a structured result that a transport later formats. Executors know
 * nothing about IRC, HTTP or voice: they see only who asked (a principal id), for which job, and
 * the name of the signing identity to act as (an opaque word the bot chooses).
 */

/** What an executor is told about the job it works for. */
export interface ExecutionContext<Progress> {
  /** The job this execution belongs to. */
  readonly jobId: string;
  /** The principal id that asked, for signing, authorization and audit. */
  readonly principalId: string;
  /**
   * Name of the signing identity to act as, e.g. the transport the command came in on. Opaque
   * to executors: one that signs looks it up among its configured identities and falls back to
   * its default identity when the name is absent or unknown; others ignore it.
   */
  readonly signer?: string;
  /** Aborted when the job is cancelled or the bot shuts down. */
  readonly signal: AbortSignal;
  /** Called for every progress event, in order. Must not throw. */
  progress(event: Progress): void;
}

/** One executor: a named way of doing something. */
export interface Executor<Request, Result, Progress> {
  /** Stable name, e.g. `fleet` or `provision`. */
  readonly name: string;
  /** Runs one request; rejects only for failures of the executor itself, not of targets. */
  execute(request: Request, context: ExecutionContext<Progress>): Promise<Result>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/**
 * The reason an execution's signal carries when a person cancelled the job, as opposed to a
 * shutdown: executors that can stop remote work (the fleet tells agents to kill the provider)
 * do so only for this reason.
 */
export class CancelRequest {
  /** @param by - the principal id that cancelled the job */
  constructor(readonly by: string) {}
}

/** The person's cancellation behind an aborted `signal`, or undefined (not aborted, or shutdown). */
export function cancellationOf(signal: AbortSignal): CancelRequest | undefined {
  return signal.aborted && signal.reason instanceof CancelRequest ? signal.reason : undefined;
}
