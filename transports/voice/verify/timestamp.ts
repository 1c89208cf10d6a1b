/**
 * The replay window: `request.timestamp` must be within the tolerance of now, in either
 * direction (a future timestamp is as suspicious as an old one).
 */
import { VoiceVerifyError } from "./errors.ts";

/** The largest tolerance the assistant's rules allow, in seconds. */
export const MAX_TIMESTAMP_TOLERANCE_SECONDS = 150;
const MS_PER_SECOND = 1_000;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Throws `E_VOICE_TIMESTAMP` unless `timestamp` (ISO 8601) is within `toleranceSeconds` of `now`. */
export function checkTimestamp(
  timestamp: string,
  now: number,
  toleranceSeconds = MAX_TIMESTAMP_TOLERANCE_SECONDS,
): void {
  const at = ISO_8601.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new VoiceVerifyError(
      "E_VOICE_TIMESTAMP",
      "request.timestamp is not an ISO 8601 date-time with a zone",
    );
  }
  const skewSeconds = (at - now) / MS_PER_SECOND;
  if (Math.abs(skewSeconds) > toleranceSeconds) {
    throw new VoiceVerifyError(
      "E_VOICE_TIMESTAMP",
      `request.timestamp is ${Math.round(Math.abs(skewSeconds))} s in the ${skewSeconds < 0 ? "past" : "future"}, ` +
        `the limit is ${toleranceSeconds} s`,
      "check the server clock (NTP)",
    );
  }
}
