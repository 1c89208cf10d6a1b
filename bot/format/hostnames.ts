/**
 * Natural hostname ordering and collapsing of numbered runs (`www01..www40`).
 *
 * A hostname is "numbered" when its first label ends in digits: `www07.example.com` has prefix
 * `www`, number `07` and suffix `.example.com`. Consecutive numbers with the same prefix,
 * suffix and zero padding form a run.
 */

/** Runs shorter than this are listed host by host. */
export const MIN_RUN = 3;

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Compares hostnames so that `www2` sorts before `www10`. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

interface Numbered {
  readonly prefix: string;
  readonly digits: string;
  readonly value: number;
  readonly suffix: string;
}

function numbered(hostname: string): Numbered | undefined {
  const m = /^([^.]*?)(\d+)(\..*)?$/.exec(hostname);
  if (!m || m[2] === undefined) return undefined;
  return { prefix: m[1] ?? "", digits: m[2], value: Number(m[2]), suffix: m[3] ?? "" };
}

function follows(prev: Numbered, next: Numbered): boolean {
  const samePadding =
    prev.digits.length === next.digits.length ||
    (!prev.digits.startsWith("0") && !next.digits.startsWith("0"));
  return (
    prev.prefix === next.prefix &&
    prev.suffix === next.suffix &&
    next.value === prev.value + 1 &&
    samePadding
  );
}

/** One output line's worth of hosts sharing the same text. */
export interface HostGroup {
  /** `www01`, or `www01..www40` for a run. */
  readonly label: string;
  readonly text: string;
  readonly count: number;
}

/**
 * Groups `(hostname, text)` pairs, already in natural order, collapsing contiguous numbered
 * runs of at least {@link MIN_RUN} hosts whose text is identical.
 */
export function collapseRuns(items: readonly { hostname: string; text: string }[]): HostGroup[] {
  const groups: HostGroup[] = [];
  let i = 0;
  while (i < items.length) {
    const first = items[i];
    if (!first) break;
    let j = i + 1;
    let prev = numbered(first.hostname);
    while (prev && j < items.length) {
      const cand = items[j];
      const next = cand ? numbered(cand.hostname) : undefined;
      if (!cand || !next || cand.text !== first.text || !follows(prev, next)) break;
      prev = next;
      j += 1;
    }
    const start = numbered(first.hostname);
    if (j - i >= MIN_RUN && start && prev) {
      const label = `${start.prefix}${start.digits}..${prev.prefix}${prev.digits}${prev.suffix}`;
      groups.push({ label, text: first.text, count: j - i });
      i = j;
    } else {
      groups.push({ label: first.hostname, text: first.text, count: 1 });
      i += 1;
    }
  }
  return groups;
}
