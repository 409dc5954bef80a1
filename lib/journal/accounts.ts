/**
 * The general-ledger accounts the journal posts to (`config/gl_accounts.yaml`),
 * read and checked against a zod schema: a file with problems is refused
 * with every problem at its key path (`accounts.allowance.stage_2.code`).
 * The codes shipped are illustrative; a bank maps them to its own chart of
 * accounts (docs/journal.md).
 *
 * Which account each movement line posts to, and the paragraph behind it:
 * loss allowance per stage (IFRS 9 §5.5.1, §5.5.3, §5.5.5, §5.5.15; a
 * contra-asset, IFRS 9 §5.4.1 and IFRS 7 §16A for the presentation),
 * impairment gain or loss (IFRS 9 §5.5.8, IAS 1 §82(ba)), foreign exchange
 * differences (IAS 21 §28), gross carrying amount (IFRS 9 Appendix A,
 * §5.4.4) and the clearing of cash recovered.
 *
 * @module
 */
import { z } from "zod";
import { UserError } from "../errors.ts";
import { mapping, readConfigFile, readYaml } from "../_config_file.ts";

/** One general-ledger account: its code and its name. */
export interface GlAccount {
  /** The account code as the ERP knows it (`"1491"`). */
  code: string;
  /** The account's name, printed beside the code. */
  name: string;
}

/** The accounts the journal posts to. */
export interface GlAccounts {
  /**
   * The loss allowance per column of the reconciliation (balance sheet,
   * contra-asset to the gross carrying amount): stages 1, 2, 3 of the
   * general approach and the simplified approach (IFRS 9 §5.5.15).
   */
  allowance: {
    /** Stage 1: 12-month ECL (IFRS 9 §5.5.5). */
    stage_1: GlAccount;
    /** Stage 2: lifetime ECL, not credit-impaired (IFRS 9 §5.5.3). */
    stage_2: GlAccount;
    /** Stage 3: lifetime ECL, credit-impaired (IFRS 9 §5.5.3, Appendix A). */
    stage_3: GlAccount;
    /** Receivables on the simplified approach (IFRS 9 §5.5.15). */
    simplified: GlAccount;
  };
  /** Impairment gains and losses, profit or loss (IFRS 9 §5.5.8). */
  impairment_expense: GlAccount;
  /** Exchange differences on the allowance, profit or loss (IAS 21 §28). */
  fx_translation: GlAccount;
  /** Loans at amortised cost, gross carrying amount (IFRS 9 Appendix A). */
  gross_carrying_amount: GlAccount;
  /** Cash collected on facilities written off in the period, clearing. */
  recoveries_clearing: GlAccount;
}

/** The file's shape: `accounts:` and an optional `note:`. */
export interface GlAccountsFile {
  /** Free text: where the codes come from (the shipped file: illustrative). */
  note?: string;
  /** The accounts. */
  accounts: GlAccounts;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

// A CSV field starting with one of these is a formula to a spreadsheet.
const FORMULA = /^[=+\-@]/;

const account = mapping({
  code: z.string().trim().min(1, "must not be empty").max(
    64,
    "must be at most 64 characters",
  ).refine((s) => !CONTROL.test(s), "must hold no control characters")
    .refine(
      (s) => !FORMULA.test(s),
      "must not start with =, +, - or @ (a spreadsheet would read journal.csv's code as a formula)",
    ),
  name: z.string().trim().min(1, "must not be empty").max(
    200,
    "must be at most 200 characters",
  ),
});

const SCHEMA = mapping({
  note: z.string().optional(),
  accounts: mapping({
    allowance: mapping({
      stage_1: account,
      stage_2: account,
      stage_3: account,
      simplified: account,
    }),
    impairment_expense: account,
    fx_translation: account,
    gross_carrying_amount: account,
    recoveries_clearing: account,
  }),
}).superRefine((file, ctx) => {
  // One code per purpose: two purposes on one code would net the
  // allowance against the expense and hide the reconciliation.
  const seen = new Map<string, string>();
  for (const [path, a] of accountEntries(file.accounts as GlAccounts)) {
    const other = seen.get(a.code);
    if (other !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["accounts", ...path.split("."), "code"],
        message: `code ${a.code} is also the code of accounts.${other}`,
      });
    } else seen.set(a.code, path);
  }
});

/** Every account with its key path under `accounts` (`allowance.stage_1`). */
export function accountEntries(a: GlAccounts): [string, GlAccount][] {
  return [
    ["accounts.allowance.stage_1", a.allowance.stage_1],
    ["accounts.allowance.stage_2", a.allowance.stage_2],
    ["accounts.allowance.stage_3", a.allowance.stage_3],
    ["accounts.allowance.simplified", a.allowance.simplified],
    ["accounts.impairment_expense", a.impairment_expense],
    ["accounts.fx_translation", a.fx_translation],
    ["accounts.gross_carrying_amount", a.gross_carrying_amount],
    ["accounts.recoveries_clearing", a.recoveries_clearing],
  ].map(([p, x]) => [(p as string).replace(/^accounts\./, ""), x as GlAccount]);
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? "(root)"
    : path.map((p, i) =>
      typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`
    ).join("");
}

/**
 * Checks an accounts document (parsed YAML); `source` names it in the
 * error.
 *
 * @throws {UserError} of kind `input`, naming every key at fault.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGlAccounts } from "./accounts.ts";
 * assert.throws(
 *   () => parseGlAccounts({ accounts: { allowance: {} } }, "gl.yaml"),
 *   /gl\.yaml: accounts\.allowance\.stage_1: /,
 * );
 * ```
 */
export function parseGlAccounts(doc: unknown, source: string): GlAccounts {
  const r = SCHEMA.safeParse(doc);
  if (!r.success) {
    const problems = r.error.issues.map((i) =>
      `${keyPath(i.path)}: ${i.message}`
    );
    throw new UserError(
      "input",
      `Cannot read accounts file ${source}: ${problems.join("; ")}`,
    );
  }
  return r.data.accounts as GlAccounts;
}

/**
 * Reads and checks an accounts file (`config/gl_accounts.yaml`).
 *
 * @throws {UserError} of kind `input` when the file is missing, not YAML
 *   or breaks the schema, naming the file and every key at fault.
 */
export async function readGlAccounts(path: string): Promise<GlAccounts> {
  const read = await readConfigFile(path);
  if ("problem" in read) {
    throw new UserError(
      "input",
      `Cannot read accounts file ${path}: ${read.problem}`,
    );
  }
  const yaml = readYaml(new TextDecoder().decode(read.bytes));
  if ("syntaxError" in yaml) {
    throw new UserError(
      "input",
      `Cannot read accounts file ${path}: ${yaml.syntaxError}`,
    );
  }
  return parseGlAccounts(yaml.doc, path);
}
