/**
 * A cost budget for evaluating one request's `where` terms. Every fact match — the glob's
 * comparisons and the Pike VM's thread steps — is charged to one {@link MatchBudget} per
 * request, shared by every node the request evaluates (the controller's expected set, `nodes`,
 * the status page) or by the one node an agent is (its own facts). A request whose terms cost
 * more is refused with {@link FilterTooCostlyError} instead of stalling the process.
 *
 * Why a budget and not only compile limits: a regex of at most 256 characters with counts up
 * to 100 still compiles to up to 4 096 instructions, and the Pike VM may visit every one of them
 * at every character of the fact, so one term on one 1 KiB fact costs millions of steps; 32
 * such terms on 1 000 nodes would take hours. The compile limits bound the cost per character,
 * the budget bounds it per request.
 */
import { CommodoreError } from "../../../lib/errors.ts";

/**
 * Matching steps one request may spend, summed over every node and term it evaluates: ten
 * million, about 0.15 s of one core for the costliest regexes (15-20 ns per Pike VM step).
 * Ordinary terms are far below it: `hostname=/^www\d+\.example\.com$/` spends about 70 steps
 * per node and a glob about one per character, so 10 000 nodes with a few terms use well under
 * a million.
 */
export const DEFAULT_MATCH_BUDGET_STEPS = 10_000_000;
/** Longest part of a term quoted in the error message. */
const MAX_TERM_SHOWN = 80;

/** Receives the steps a match spent since its last call; may throw to stop the match. */
export type StepMeter = (steps: number) => void;

/** A request's filter terms would cost more than its budget. */
export class FilterTooCostlyError extends CommodoreError {
  /** The term that ran out of budget, e.g. `hostname=~^(a|b)*$`. */
  readonly term: string;
  /** The budget it exceeded, in steps. */
  readonly budget: number;

  constructor(term: string, budget: number) {
    const shown = term.length > MAX_TERM_SHOWN ? `${term.slice(0, MAX_TERM_SHOWN)}…` : term;
    super(
      "E_FILTER_TOO_COSTLY",
      `where term "${shown}" costs more than the budget of ${budget} matching steps for one request`,
      {
        hint: "use a simpler pattern (fewer nested or counted repetitions, fewer `*`), or narrow the request with a cheaper term such as role=web",
      },
    );
    this.term = term;
    this.budget = budget;
  }
}

/** Steps spent so far against a fixed limit; shared by every match of one request. */
export class MatchBudget {
  private used = 0;

  /** `limit` defaults to {@link DEFAULT_MATCH_BUDGET_STEPS}. */
  constructor(readonly limit: number = DEFAULT_MATCH_BUDGET_STEPS) {}

  /** Steps charged so far. */
  get spent(): number {
    return this.used;
  }

  /** Charges `steps` to `term`; throws {@link FilterTooCostlyError} once over the limit. */
  charge(steps: number, term: string): void {
    this.used += steps;
    if (this.used > this.limit) throw new FilterTooCostlyError(term, this.limit);
  }

  /** A meter that charges this budget on behalf of `term` (named in the error). */
  meter(term: string): StepMeter {
    return (steps) => this.charge(steps, term);
  }
}
