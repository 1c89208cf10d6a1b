/** Transport-neutral text for enrollment changes (`nodes accept|reject|revoke|retire`). */
import type { EnrollmentChange } from "../../executors/fleet/index.ts";

/** `www01 SHA256:…: pending -> accepted`, or `already accepted`, with the change's note. */
export function changeLine(c: EnrollmentChange): string {
  const line =
    c.from === c.to
      ? `${c.hostname} ${c.fingerprint}: already ${c.to}`
      : `${c.hostname} ${c.fingerprint}: ${c.from} -> ${c.to}`;
  return c.note === undefined ? line : `${line} (${c.note})`;
}
