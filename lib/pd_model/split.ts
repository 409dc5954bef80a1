/**
 * How development rows are split into a fitted part and a held-out part
 * (and how the trees set a validation part aside for early stopping).
 *
 * A development sample has one row per facility and observation date
 * (`sample.ts`): the same facility appears at several dates with nearly
 * the same characteristics and, around a default, the same outcome. A
 * split by row puts most held-out facilities in the fitted part as well,
 * so the held-out figures measure memory, not prediction (on a generated
 * 8-quarter book of 2,000 loans, 93% of held-out rows shared their
 * facility with fitted rows, and the trees' held-out AUC fell from 0.86 by
 * row to 0.75 by facility). Validation wants out-of-sample and out-of-time data the
 * model has not seen (BCBS Working Paper 14, "Studies on the validation of
 * internal rating systems", 2005; the ECB guide to internal models):
 *
 * - {@link facilitySplit}: whole facilities are held out, stratified on
 *   whether the facility ever defaults and seeded;
 * - {@link latestDateSplit}: the out-of-time hold-out, every row of the
 *   last observation date;
 * - {@link groupCodes}: the facility of each row as a small integer, for
 *   the trees' validation split (`gbt.ts`).
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { Rng } from "../generate/mod.ts";

/** A split of rows: ascending row indices of each part. */
export interface RowSplit {
  /** Rows the model is fitted on. */
  train: Uint32Array;
  /** Rows held out for validation. */
  heldOut: Uint32Array;
}

/** How `trainPdModel` holds rows out. */
export type HoldOut = "facility" | "out-of-time";

/** The hold-outs, in the order the task lists them. */
export const HOLD_OUTS: readonly HoldOut[] = ["facility", "out-of-time"];

/**
 * The group of each row as an integer code, numbered in order of first
 * appearance (0, 1, …), with the number of groups. A missing group (null,
 * undefined, NaN or "") is refused: `where` names the column in the
 * message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupCodes } from "./split.ts";
 * const { codes, groups } = groupCodes(["b", "a", "b", "c"], "loan_id");
 * assert.deepEqual(Array.from(codes), [0, 1, 0, 2]);
 * assert.equal(groups, 3);
 * ```
 */
export function groupCodes(
  values: ArrayLike<unknown>,
  where: string,
): { codes: Int32Array; groups: number } {
  const index = new Map<unknown, number>();
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    let v = values[i];
    if (
      v === null || v === undefined || v === "" ||
      (typeof v === "number" && Number.isNaN(v))
    ) {
      throw new UserError(
        "input",
        `${where}: row ${i + 1} has no value; every row needs its facility`,
      );
    }
    if (v instanceof Date) v = v.getTime();
    let c = index.get(v);
    if (c === undefined) {
      c = index.size;
      index.set(v, c);
    }
    codes[i] = c;
  }
  return { codes, groups: index.size };
}

/** Row indices where `held` is 1 and where it is 0, ascending. */
export function partsOf(held: Uint8Array): RowSplit {
  let nHeld = 0;
  for (let i = 0; i < held.length; i++) nHeld += held[i];
  const train = new Uint32Array(held.length - nHeld);
  const heldOut = new Uint32Array(nHeld);
  let a = 0, b = 0;
  for (let i = 0; i < held.length; i++) {
    if (held[i]) heldOut[b++] = i;
    else train[a++] = i;
  }
  return { train, heldOut };
}

/**
 * Holds out whole facilities: each facility is labelled by whether any of
 * its rows has target 1; within each label the facilities (in order of
 * first appearance) are shuffled with `seed` and `round(share × count)` of
 * them (at least 1, at most all but 1) are held out with all their rows.
 * Without `groups` each row is its own facility, and the split is the
 * row-stratified split of `stratifiedSplit` (`train_data.ts`), row for
 * row. Both parts hold rows of both classes.
 *
 * @param groups the facility of each row (e.g. `loan_id`), or undefined.
 * @param where names the group column in messages.
 * @throws {UserError} `usage` for a share outside (0, 1); `input` when
 *   fewer than 2 facilities ever default, or fewer than 2 never do, or a
 *   row has no facility.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { facilitySplit } from "./split.ts";
 * const loans = ["a", "a", "b", "b", "c", "c", "d", "d"];
 * const target = Uint8Array.of(0, 1, 0, 0, 0, 1, 0, 0);
 * const { train, heldOut } = facilitySplit(target, loans, 0.5, 3, "loan_id");
 * const held = new Set([...heldOut].map((r) => loans[r]));
 * assert.equal(held.size, 2); // one facility that defaults, one that does not
 * assert.ok([...train].every((r) => !held.has(loans[r])));
 * ```
 */
export function facilitySplit(
  target: Uint8Array,
  groups: ArrayLike<unknown> | undefined,
  share: number,
  seed: number,
  where = "group",
): RowSplit {
  if (!(share > 0 && share < 1)) {
    throw new UserError(
      "usage",
      `the held-out share must be between 0 and 1 (exclusive), got ${share}`,
    );
  }
  const n = target.length;
  let codes: Int32Array, count: number;
  if (groups === undefined) {
    codes = Int32Array.from({ length: n }, (_, i) => i);
    count = n;
  } else {
    if (groups.length !== n) {
      throw new UserError(
        "input",
        `${where}: ${groups.length} values for ${n} rows`,
      );
    }
    ({ codes, groups: count } = groupCodes(groups, where));
  }
  const ever = new Uint8Array(count);
  for (let i = 0; i < n; i++) if (target[i]) ever[codes[i]] = 1;
  const heldGroup = new Uint8Array(count);
  for (const cls of [0, 1]) {
    const members: number[] = [];
    for (let g = 0; g < count; g++) if (ever[g] === cls) members.push(g);
    if (members.length < 2) {
      const what = groups === undefined
        ? `row${members.length === 1 ? " has" : "s have"} target ${cls}`
        : `facilit${members.length === 1 ? "y (by" : "ies (by"} ${where}) ${
          cls === 1
            ? members.length === 1 ? "ever defaults" : "ever default"
            : members.length === 1
            ? "never defaults"
            : "never default"
        }`;
      throw new UserError(
        "input",
        `only ${members.length} ${what}: at least 2 are needed to have one in the fitted and one in the held-out part`,
      );
    }
    // The shuffle of stratifiedSplit (train_data.ts), so that one row per
    // facility gives its split exactly.
    const rng = new Rng(seed, cls + 1);
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [members[i], members[j]] = [members[j], members[i]];
    }
    const k = Math.min(
      members.length - 1,
      Math.max(1, Math.round(share * members.length)),
    );
    for (let i = 0; i < k; i++) heldGroup[members[i]] = 1;
  }
  const held = new Uint8Array(n);
  for (let i = 0; i < n; i++) held[i] = heldGroup[codes[i]];
  return partsOf(held);
}

/** A date cell as a sortable key and its text. */
function dateKey(v: unknown): { key: number | string; text: string } | null {
  if (v === null || v === undefined || v === "") return null;
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t)
      ? null
      : { key: t, text: v.toISOString().slice(0, 10) };
  }
  if (typeof v === "number" || typeof v === "bigint") {
    const x = Number(v);
    return Number.isNaN(x) ? null : { key: x, text: String(v) };
  }
  return { key: String(v), text: String(v) };
}

/**
 * The out-of-time hold-out: every row of the last observation date is
 * held out, every earlier row is fitted. Dates are compared as dates
 * (`Date` values), numbers, or text (ISO dates sort as text).
 *
 * @param where names the date column in messages.
 * @returns the split and the held-out date, as text.
 * @throws {UserError} `input` when a row has no date, when there is only
 *   one date, or when either part has rows of one class only.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { latestDateSplit } from "./split.ts";
 * const dates = ["2024-03-31", "2024-06-30", "2024-03-31", "2024-06-30"];
 * const target = Uint8Array.of(0, 1, 1, 0);
 * const s = latestDateSplit(dates, target, "reporting_date");
 * assert.deepEqual([...s.heldOut], [1, 3]);
 * assert.equal(s.date, "2024-06-30");
 * ```
 */
export function latestDateSplit(
  dates: ArrayLike<unknown>,
  target: Uint8Array,
  where = "reporting_date",
): RowSplit & { date: string } {
  const n = target.length;
  if (dates.length !== n) {
    throw new UserError(
      "input",
      `${where}: ${dates.length} values for ${n} rows`,
    );
  }
  const keys: (number | string)[] = new Array(n);
  let last: { key: number | string; text: string } | null = null;
  let distinct = 0;
  const seen = new Set<number | string>();
  for (let i = 0; i < n; i++) {
    const k = dateKey(dates[i]);
    if (k === null) {
      throw new UserError(
        "input",
        `${where}: row ${
          i + 1
        } has no date; the out-of-time hold-out needs the observation date of every row`,
      );
    }
    keys[i] = k.key;
    if (!seen.has(k.key)) {
      seen.add(k.key);
      distinct++;
    }
    if (last === null || k.key > last.key) last = k;
  }
  if (last === null || distinct < 2) {
    throw new UserError(
      "input",
      `${where}: the out-of-time hold-out needs at least two observation dates, found ${distinct}${
        last ? ` (${last.text})` : ""
      }`,
    );
  }
  const held = new Uint8Array(n);
  for (let i = 0; i < n; i++) held[i] = keys[i] === last.key ? 1 : 0;
  const split = partsOf(held);
  for (
    const [name, rows] of [
      [`the last date (${last.text})`, split.heldOut],
      [`the dates before ${last.text}`, split.train],
    ] as const
  ) {
    let d = 0;
    for (const r of rows) d += target[r];
    if (d === 0 || d === rows.length) {
      throw new UserError(
        "input",
        `${where}: the rows of ${name} have ${
          d === 0 ? "no default" : "only defaults"
        } (${rows.length} rows): the out-of-time hold-out needs both classes on both sides`,
      );
    }
  }
  return { ...split, date: last.text };
}
