/**
 * Writing the journal: `journal.csv` and `journal.parquet` (one row per
 * journal line, the columns of {@link JOURNAL_COLUMNS}, the layout an ERP
 * import takes), as one folder, whole or not at all (staged beside it and
 * renamed last, `writeOutputFolder`), so a full disk never leaves half a
 * journal to be imported.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { DataFrame } from "../frame.ts";
import { writeOutputFolder } from "../run_folder/mod.ts";
import type { Journal, JournalLine } from "./journal.ts";

/** The files of a journal folder. */
export const JOURNAL_FILES = {
  /** The journal lines as CSV (amounts with two decimals). */
  csv: "journal.csv",
  /** The same lines as Parquet. */
  parquet: "journal.parquet",
} as const;

/** The columns of the journal files, in order. */
export const JOURNAL_COLUMNS = [
  "entry_id",
  "date",
  "account",
  "account_name",
  "debit",
  "credit",
  "currency",
  "entity",
  "product",
  "stage",
  "facility_currency",
  "description",
  "reference",
  "movement_line",
] as const satisfies readonly (keyof JournalLine)[];

/** The journal lines as a frame (`date` a Date, amounts Float64 to the cent). */
export function journalFrame(journal: Journal): DataFrame {
  const col = <K extends keyof JournalLine>(k: K) =>
    journal.lines.map((l) => l[k]);
  return pl.DataFrame([
    pl.Series("entry_id", col("entry_id"), pl.Utf8),
    pl.Series(
      "date",
      col("date").map((d) => new Date(`${d}T00:00:00Z`)),
      pl.Date,
    ),
    pl.Series("account", col("account"), pl.Utf8),
    pl.Series("account_name", col("account_name"), pl.Utf8),
    pl.Series("debit", col("debit"), pl.Float64),
    pl.Series("credit", col("credit"), pl.Float64),
    pl.Series("currency", col("currency"), pl.Utf8),
    pl.Series("entity", col("entity"), pl.Utf8),
    pl.Series("product", col("product"), pl.Utf8),
    pl.Series("stage", col("stage"), pl.Utf8),
    pl.Series("facility_currency", col("facility_currency"), pl.Utf8),
    pl.Series("description", col("description"), pl.Utf8),
    pl.Series("reference", col("reference"), pl.Utf8),
    pl.Series("movement_line", col("movement_line"), pl.Utf8),
  ]);
}

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
function field(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** The journal as CSV text: a header, then one line per journal line. */
export function journalCsv(journal: Journal): string {
  const rows = journal.lines.map((l) =>
    JOURNAL_COLUMNS.map((c) =>
      c === "debit" || c === "credit"
        ? (l[c] as number).toFixed(2)
        : field(String(l[c]))
    ).join(",")
  );
  return [JOURNAL_COLUMNS.join(","), ...rows].join("\n") + "\n";
}

/**
 * Writes `journal.csv` and `journal.parquet` as the folder `outDir`
 * (replacing an earlier journal there; a folder holding other files, or
 * one of `inputs`, is refused).
 *
 * @returns the paths written.
 */
export async function writeJournal(
  journal: Journal,
  outDir: string,
  opts: { inputs?: readonly string[] } = {},
): Promise<{ csv: string; parquet: string }> {
  const { folder } = await writeOutputFolder(
    outDir,
    Object.values(JOURNAL_FILES),
    async (_, out) => {
      await out.text(JOURNAL_FILES.csv, journalCsv(journal));
      await out.parquet(JOURNAL_FILES.parquet, journalFrame(journal));
    },
    { inputs: opts.inputs },
  );
  return {
    csv: folder.child(JOURNAL_FILES.csv).href,
    parquet: folder.child(JOURNAL_FILES.parquet).href,
  };
}

/** The trial balance as text for the console. */
export function trialBalanceText(journal: Journal): string {
  const tb = journal.trial_balance;
  const amt = (x: number) =>
    (Math.abs(x) < 0.005 ? 0 : x).toLocaleString("en-US", {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
  const out = [
    `Journal of ${journal.date} (${journal.currency}): ${journal.entries} entries, ${journal.lines.length} lines; entity = ${journal.entity_source}`,
    `Trial balance: debits ${amt(tb.total_debit)} = credits ${
      amt(tb.total_credit)
    }; ${
      tb.unbalanced_entries.length === 0
        ? "every entry balances"
        : `UNBALANCED entries: ${tb.unbalanced_entries.join(", ")}`
    }`,
    "  account      net debit  name",
    ...tb.by_account.map((a) =>
      `  ${a.account.padEnd(8)} ${amt(a.net_debit).padStart(14)}  ${a.name}`
    ),
  ];
  for (
    const c of tb.checks.filter((c) =>
      !c.name.startsWith("facility lines") || !c.holds
    )
  ) {
    out.push(
      `  ${c.holds ? "ok  " : "FAIL"} ${c.name}: ${amt(c.journal)} vs ${
        amt(c.expected)
      }`,
    );
  }
  const lineChecks = tb.checks.filter((c) =>
    c.name.startsWith("facility lines")
  );
  if (lineChecks.every((c) => c.holds)) {
    out.push(
      `  ok   the facilities' lines equal movement.json's (${lineChecks.length} lines by stage)`,
    );
  }
  return out.join("\n");
}
