/**
 * Reading the project's YAML configuration files (the rules file, the FX
 * table) against zod schemas, so that a file with problems is refused with
 * every problem at once, each at its key path (`scenarios[1].weight`,
 * `products.card.ccf`) and in words a risk analyst reads: what is wrong and
 * what the file holds there.
 *
 * Internal to `lib/`: `rules.ts` and `fx.ts` hold the schemas and their
 * cross-field rules; this module holds what both need.
 *
 * @module
 */
import { z } from "zod";
import { parse as parseYaml } from "yaml";
import { bytesText, inspectPath, readBoundedAsync } from "./io/_input.ts";
import { isS3Url, readInputBytes } from "./storage/mod.ts";

/**
 * The largest rules file or FX table read: 1 MiB. A real one is a few KB
 * (the sample rules file, with its comments, is under 4 KB; an FX table of
 * every ISO 4217 currency under 5 KB), so a larger file is not a
 * configuration, and a cap keeps a wrong path (a data file, a device) from
 * being parsed as YAML. YAML alias bombs ("billion laughs") are stopped by
 * the parser itself, which refuses a document that expands its aliases
 * more than it holds (the `yaml` package's `maxAliasCount`, 100).
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * The bytes of a configuration file, or what is wrong with it: missing,
 * unreadable, not a regular file (a directory, a device, a pipe: read a
 * device or a pipe only with `stream`), or larger than
 * {@link MAX_CONFIG_BYTES}. The caller words the problem in its own error
 * (`RulesError`, `FxError`), after the file's name. An `s3://bucket/key`
 * URL is read from object storage (`lib/storage`); a missing object, a
 * refused credential or an object above the limit throws a `UserError`
 * naming the URL.
 *
 * @param stream read a device or a pipe as a stream on purpose (still at
 *   most {@link MAX_CONFIG_BYTES})
 */
export async function readConfigFile(
  path: string,
  { stream = false }: { stream?: boolean } = {},
): Promise<{ bytes: Uint8Array } | { problem: string }> {
  const tooLarge = (what: string) =>
    `it ${what} more than ${
      bytesText(MAX_CONFIG_BYTES)
    }, the most a configuration file may hold (a real one is a few KB): is this the right file?`;
  // Object storage: the one reader of inputs, size checked before reading.
  if (isS3Url(path)) {
    return {
      bytes: await readInputBytes(path, { maxBytes: MAX_CONFIG_BYTES }),
    };
  }
  try {
    const found = inspectPath(path);
    if (found.kind === "refused" || (found.kind === "stream" && !stream)) {
      return {
        problem: `it is ${found.what}, not a file${
          found.kind === "stream"
            ? " (a device or a pipe has no end known in advance: copy it to a file, or pass { stream: true } to read it on purpose)"
            : ""
        }`,
      };
    }
    if (found.kind === "file" && found.size > MAX_CONFIG_BYTES) {
      return { problem: tooLarge(`holds ${bytesText(found.size)},`) };
    }
    const bytes = await readBoundedAsync(path, MAX_CONFIG_BYTES);
    return bytes === undefined ? { problem: tooLarge("sends") } : { bytes };
  } catch (e) {
    return {
      problem: `cannot be read: ${
        e instanceof Deno.errors.NotFound
          ? "no such file"
          : (e as Error).message
      }`,
    };
  }
}

/** One problem in a configuration file. */
export interface ConfigIssue {
  /** Key path such as `scenarios[1].weight`; `(root)` for the whole file. */
  path: string;
  message: string;
}

/**
 * Parses YAML text, or says where it is not valid YAML: `not valid YAML at
 * line 2, column 17: …` (the parser's first line).
 */
export function readYaml(
  text: string,
): { doc: unknown } | { syntaxError: string } {
  try {
    return { doc: parseYaml(text) };
  } catch (e) {
    const at = (e as { linePos?: { line: number; col: number }[] }).linePos
      ?.[0];
    return {
      syntaxError: `not valid YAML${
        at ? ` at line ${at.line}, column ${at.col}` : ""
      }: ${(e as Error).message.split("\n")[0]}`,
    };
  }
}

/** What the file holds at a key, as the messages quote it. */
export function shown(value: unknown): string {
  return typeof value === "number" ? String(value) : JSON.stringify(value);
}

/** Whether a YAML value is a mapping (not a list, not a scalar). */
export const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A YAML mapping with exactly the keys of `shape`; any other key is refused,
 * naming the keys allowed there. A key written without a value (`staging:`)
 * reads as absent: it takes its default, or is reported as required.
 */
export function mapping<const Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(", ");
  return z.preprocess(
    (v) =>
      isMapping(v)
        ? Object.fromEntries(
          Object.entries(v).filter(([k, x]) => !(x === null && k in shape)),
        )
        : v,
    z.strictObject(shape, {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `unknown key (allowed: ${allowed})`
          : issue.code === "invalid_type" && issue.input !== undefined
          ? `must be a mapping (keys: ${allowed}), got ${shown(issue.input)}`
          : undefined,
    }),
  );
}

/** A number that is whole, reported with the other checks of its value. */
export const wholeNumber = () =>
  z.number().refine(Number.isInteger, {
    error: (issue) => `must be a whole number, got ${shown(issue.input)}`,
  });

/**
 * Error options for a bound of a number or of a list's length, so that the
 * message gives the bound and why it is there: `must be <= 600 (50 years,
 * ...), got 100000000`. Bounds keep every parameter finite and plausible
 * (issue 10: a behavioural life of 1e8 months made a 20-loan run take four
 * minutes and 2.5 GB; an overlay multiplier of 1e308 gave NaN totals).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { bound } from "./_config_file.ts";
 * const months = z.number().max(600, bound("50 years"));
 * assert.equal(
 *   months.safeParse(1e8).error?.issues[0].message,
 *   "must be <= 600 (50 years), got 100000000",
 * );
 * ```
 */
export function bound(reason: string): {
  error: (issue: z.core.$ZodRawIssue) => string | undefined;
} {
  return {
    error: (issue) => {
      if (issue.code !== "too_big" && issue.code !== "too_small") {
        return undefined;
      }
      const big = issue.code === "too_big";
      const limit = big ? issue.maximum : issue.minimum;
      if (issue.origin === "array") {
        const n = Array.isArray(issue.input) ? issue.input.length : "?";
        return `must hold at ${big ? "most" : "least"} ${limit} value${
          limit === 1 ? "" : "s"
        } (${reason}), got ${n}`;
      }
      const op = big
        ? (issue.inclusive ? "<=" : "<")
        : (issue.inclusive ? ">=" : ">");
      return `must be ${op} ${limit} (${reason}), got ${shown(issue.input)}`;
    },
  };
}

/**
 * Options for a cross-field refinement: run it whenever the values it
 * `reads` (key paths relative to the refined mapping or list) are valid,
 * even when something else there is not, so its problem is reported with
 * the others rather than after they are fixed (zod's default skips it on
 * any problem below). It never runs on a value that is not a mapping or a
 * list to begin with.
 */
export function whenValid(reads: (path: readonly PropertyKey[]) => boolean) {
  return {
    when: (payload: z.core.ParsePayload) =>
      !payload.issues.some((issue) => {
        const path = issue.path ?? [];
        return issue.code !== "unrecognized_keys" &&
          (path.length === 0 || reads(path));
      }),
  };
}

/** The house wording of zod's issues; schemas may give their own. */
function wording(issue: z.core.$ZodRawIssue): string | undefined {
  const got = shown(issue.input);
  if (issue.input === undefined && issue.code !== "custom") {
    return "is required";
  }
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "number"
        ? `must be a number, got ${got}`
        : issue.expected === "object" || issue.expected === "record"
        ? `must be a mapping, got ${got}`
        : issue.expected === "array"
        ? `must be a list, got ${got}`
        : issue.expected === "boolean"
        ? `must be true or false, got ${got}`
        : `must be a ${issue.expected}, got ${got}`;
    case "too_small":
      return issue.origin === "number"
        ? `must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}, got ${got}`
        : issue.origin === "array"
        ? "must be a non-empty list"
        : `must be a non-empty string, got ${got}`;
    case "too_big":
      return `must be ${
        issue.inclusive ? "<=" : "<"
      } ${issue.maximum}, got ${got}`;
    case "invalid_value":
      return `unknown value ${got} (expected one of: ${
        issue.values.map(String).join(", ")
      })`;
    default:
      return undefined;
  }
}

/** Whether `path` is `prefix` or below it. */
const isUnder = (
  path: readonly PropertyKey[],
  prefix: readonly PropertyKey[],
) => prefix.every((key, i) => path[i] === key);

/**
 * Zod's issues as problems of the file: a union (a value with two accepted
 * forms) reports the problems of the form the value has, an object's
 * unknown keys come before the problems inside it (a misspelt key explains
 * the "is required" of the right spelling) and each unknown key is its own
 * problem.
 */
function fileIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const flat: z.core.$ZodIssue[] = [];
  const visit = (issue: z.core.$ZodIssue) => {
    const form = issue.code === "invalid_union"
      ? issue.errors.find((errors) => errors.every((e) => e.path.length > 0))
      : undefined;
    if (form === undefined) flat.push(issue);
    else {
      for (const e of form) visit({ ...e, path: [...issue.path, ...e.path] });
    }
  };
  issues.forEach(visit);
  const ordered: z.core.$ZodIssue[] = [];
  for (const issue of flat) {
    const inside = issue.code === "unrecognized_keys"
      ? ordered.findIndex((o) => isUnder(o.path, issue.path))
      : -1;
    if (inside === -1) ordered.push(issue);
    else ordered.splice(inside, 0, issue);
  }
  return ordered.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
        path: keyPath([...issue.path, key]),
        message: issue.message,
      }))
      : [{ path: keyPath(issue.path), message: issue.message }]
  );
}

/** `scenarios[1].weight`; `(root)` for the whole file. */
const keyPath = (path: readonly PropertyKey[]) =>
  path.length === 0 ? "(root)" : z.core.toDotPath([...path]);

/**
 * Checks a parsed document against `schema`: its value, or every problem
 * found, in the order of the schema.
 */
export function checkDocument<S extends z.ZodType>(
  schema: S,
  doc: unknown,
): { value: z.output<S>; issues: [] } | {
  value: undefined;
  issues: ConfigIssue[];
} {
  const result = schema.safeParse(doc, { error: wording });
  return result.success
    ? { value: result.data, issues: [] }
    : { value: undefined, issues: fileIssues(result.error.issues) };
}
