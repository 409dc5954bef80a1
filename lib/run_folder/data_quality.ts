/**
 * What a trusted reader checks in a run's `data_quality.json`: that it is
 * the shape of the validator's report (`DataQualityReport` of
 * `lib/validation`), so that the report and the dashboard, which print its
 * counts and rates, never show a hand-edited `{"rules": 5}` as figures.
 *
 * @module
 */
import { isCount, isRealIsoDate } from "./summary.ts";

/** The type of a JSON value, as messages name it. */
const typeOf = (v: unknown) =>
  Array.isArray(v) ? "array" : v === null ? "null" : typeof v;

const article = (type: string) =>
  type === "null" || type === "undefined"
    ? type
    : `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;

/** The counts of the report as a whole, each required. */
const ROW_COUNTS = ["rows_read", "rows_valid", "rows_rejected"] as const;

/** The counts of each rule, each required. */
const RULE_COUNTS = ["rows_checked", "rows_failed"] as const;

/** Rules listed by index in a problem; the others are counted. */
const RULES_LISTED = 5;

/**
 * What is wrong with a parsed `data_quality.json`, one message per problem,
 * each naming its key; none for a report readers can use. Required: the
 * row counts (`rows_read`, `rows_valid`, `rows_rejected`, whole numbers
 * >= 0) and `rules`,
 * a list of objects each with a `code` and whole counts `rows_checked` >=
 * `rows_failed` >= 0. Checked when present (earlier versions lacked some):
 * `file` a string, `reporting_date` a real date or null, `reject_rate` and
 * `max_reject_rate` shares from 0 to 1, `passed` a boolean, `warnings` a
 * list of strings, each rule's `examples` a list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataQualityProblems } from "./data_quality.ts";
 *
 * assert.deepEqual(dataQualityProblems({ rules: 5 }), [
 *   "missing keys rows_read, rows_valid, rows_rejected",
 *   "key rules is a number, not an array",
 * ]);
 * assert.deepEqual(
 *   dataQualityProblems({ rows_read: 3, rows_valid: 2, rows_rejected: 1, rules: [] }),
 *   [],
 * );
 * ```
 */
export function dataQualityProblems(value: unknown): string[] {
  if (typeOf(value) !== "object") {
    return [`expected an object, found ${article(typeOf(value))}`];
  }
  const dq = value as Record<string, unknown>;
  const problems: string[] = [];
  const missing = [...ROW_COUNTS, "rules"].filter((k) => dq[k] === undefined);
  if (missing.length > 0) {
    problems.push(
      `missing key${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
    );
  }
  for (const key of ROW_COUNTS) {
    if (dq[key] !== undefined && !isCount(dq[key])) {
      problems.push(
        `key ${key} is ${JSON.stringify(dq[key])}, not a whole number >= 0`,
      );
    }
  }
  if (dq.rules !== undefined) {
    if (!Array.isArray(dq.rules)) {
      problems.push(`key rules is ${article(typeOf(dq.rules))}, not an array`);
    } else {
      const bad: string[] = [];
      dq.rules.forEach((rule, i) => {
        const why = ruleProblem(rule);
        if (why !== null) bad.push(`rules[${i}] ${why}`);
      });
      const more = bad.length - RULES_LISTED;
      if (bad.length > 0) {
        problems.push(
          `${bad.slice(0, RULES_LISTED).join("; ")}${
            more > 0 ? `; and ${more} more rules` : ""
          }`,
        );
      }
    }
  }
  if (dq.file !== undefined && typeof dq.file !== "string") {
    problems.push(`key file is ${article(typeOf(dq.file))}, not a string`);
  }
  if (
    dq.reporting_date !== undefined && dq.reporting_date !== null &&
    !(typeof dq.reporting_date === "string" && isRealIsoDate(dq.reporting_date))
  ) {
    problems.push(
      `key reporting_date ${
        JSON.stringify(dq.reporting_date)
      } is not a date YYYY-MM-DD`,
    );
  }
  for (const key of ["reject_rate", "max_reject_rate"]) {
    const v = dq[key];
    if (v !== undefined && !(typeof v === "number" && v >= 0 && v <= 1)) {
      problems.push(
        `key ${key} is ${JSON.stringify(v)}, not a share from 0 to 1`,
      );
    }
  }
  if (dq.passed !== undefined && typeof dq.passed !== "boolean") {
    problems.push(`key passed is ${article(typeOf(dq.passed))}, not a boolean`);
  }
  if (
    dq.warnings !== undefined &&
    !(Array.isArray(dq.warnings) &&
      dq.warnings.every((w) => typeof w === "string"))
  ) {
    problems.push("key warnings is not a list of strings");
  }
  return problems;
}

/** What is wrong with one entry of `rules`, or null. */
function ruleProblem(rule: unknown): string | null {
  if (typeOf(rule) !== "object") {
    return `is ${article(typeOf(rule))}, not an object`;
  }
  const r = rule as Record<string, unknown>;
  if (typeof r.code !== "string") return "has no code";
  for (const key of RULE_COUNTS) {
    if (!isCount(r[key])) {
      return `(${r.code}): ${key} is ${
        JSON.stringify(r[key])
      }, not a whole number >= 0`;
    }
  }
  if ((r.rows_failed as number) > (r.rows_checked as number)) {
    return `(${r.code}): rows_failed ${r.rows_failed} is more than rows_checked ${r.rows_checked}`;
  }
  if (r.examples !== undefined && !Array.isArray(r.examples)) {
    return `(${r.code}): examples is ${
      article(typeOf(r.examples))
    }, not a list`;
  }
  return null;
}
