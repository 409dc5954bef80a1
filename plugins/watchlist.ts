/**
 * Watchlist plugin: a customer or facility watchlist kept in a CSV, as an
 * extra staging trigger (methodology §3 lists the credit file's own
 * `watchlist` flag; this adds the risk team's list without editing the
 * portfolio).
 *
 * The CSV has a `reason` column and a `customer_id` or a `loan_id` column
 * (or both; a row may fill either). After staging, every listed facility
 * (its `loan_id` listed, or its `customer_id`) that is in stage 1 moves to
 * stage 2 with `stage_reason` set to the plugin's (`WATCHLIST_PLUGIN` by
 * default); every listed facility not in stage 3 gets that code appended to
 * its `stage_triggers` (the list of the rules that hold). Stage 3 is left
 * alone. The report gets a section listing the watchlist and its reasons,
 * and a line naming the listed ids that matched no facility of the run (a
 * typo or a closed facility should not go unnoticed).
 *
 * ```yaml
 * plugins:
 *   - module: ../plugins/watchlist.ts
 *     options: { file: /data/risk/watchlist.csv, stage_reason: WATCHLIST_PLUGIN }
 * ```
 *
 * @module
 */
import pl from "nodejs-polars";
import { html } from "hono/html";
import { z } from "zod";
import {
  type DataType,
  type LazyFrame,
  type Plugin,
  type PluginContext,
  UserError,
} from "../lib/mod.ts";
import { parseOptions, readCsvRows } from "./_common.ts";

/** The plugin's name in errors, the manifest and the report. */
export const NAME = "watchlist";

/** The options the rules file gives the plugin. */
export const WatchlistOptions = z.object({
  /** The watchlist CSV: `customer_id` and/or `loan_id`, and `reason`. */
  file: z.string().min(1, "must be the path of the watchlist CSV"),
  /** The stage reason of the facilities it moves. */
  stage_reason: z.string().regex(
    /^[A-Z][A-Z0-9_]{0,63}$/,
    "must be an upper-case code such as WATCHLIST_PLUGIN",
  ).default("WATCHLIST_PLUGIN"),
}).strict();

/** One watchlist entry as read from the CSV. */
export interface WatchlistEntry {
  /** The customer listed, or null when the row lists a facility. */
  customerId: string | null;
  /** The facility listed, or null when the row lists a customer. */
  loanId: string | null;
  /** Why it is on the list. */
  reason: string;
}

/** Reads and checks a watchlist CSV. */
export async function readWatchlist(file: string): Promise<WatchlistEntry[]> {
  const { rows } = await readCsvRows(NAME, file, (columns) => {
    if (!columns.includes("reason")) return "needs a reason column";
    if (!columns.includes("customer_id") && !columns.includes("loan_id")) {
      return "needs a customer_id or a loan_id column";
    }
    return undefined;
  });
  return rows.map(({ line, cells }) => {
    const customerId = cells.customer_id ?? null;
    const loanId = cells.loan_id ?? null;
    if (customerId === null && loanId === null) {
      throw new UserError(
        "input",
        `Plugin ${NAME}: ${file} line ${line}: needs a customer_id or a loan_id`,
      );
    }
    if (cells.reason === null || cells.reason === undefined) {
      throw new UserError(
        "input",
        `Plugin ${NAME}: ${file} line ${line}: needs a reason`,
      );
    }
    return { customerId, loanId, reason: cells.reason };
  });
}

/** Whether a facility is listed: by `loan_id` or by `customer_id`. */
function listedExpr(entries: WatchlistEntry[]) {
  // An empty list would be typed Float64 by Polars: no test at all then.
  const isIn = (column: string, values: string[]) =>
    values.length === 0
      ? pl.lit(false)
      : pl.col(column).cast(pl.Utf8).isIn(values).fillNull(false);
  return isIn("loan_id", entries.flatMap((e) => e.loanId ?? []))
    .or(isIn("customer_id", entries.flatMap((e) => e.customerId ?? [])));
}

/**
 * The listed ids that match no facility of `matched` (the `loan_id`s and
 * `customer_id`s of the listed facilities seen), in list order, each once:
 * `L1` for a facility, `C1` for a customer.
 */
export function unmatchedIds(
  entries: WatchlistEntry[],
  matched: { loanIds: Set<string>; customerIds: Set<string> },
): string[] {
  const out = new Set<string>();
  for (const e of entries) {
    if (e.loanId !== null && !matched.loanIds.has(e.loanId)) out.add(e.loanId);
    if (e.customerId !== null && !matched.customerIds.has(e.customerId)) {
      out.add(e.customerId);
    }
  }
  return [...out];
}

/**
 * Adds the `loan_id`s and `customer_id`s of the listed facilities of
 * `staged` to `matched` (only those two columns are read).
 */
export async function recordMatches(
  staged: LazyFrame,
  entries: WatchlistEntry[],
  matched: { loanIds: Set<string>; customerIds: Set<string> },
): Promise<void> {
  const seen = await staged.filter(listedExpr(entries))
    .select(
      pl.col("loan_id").cast(pl.Utf8),
      pl.col("customer_id").cast(pl.Utf8),
    )
    .collect();
  for (const id of seen.getColumn("loan_id").toArray()) {
    if (id !== null) matched.loanIds.add(String(id));
  }
  for (const id of seen.getColumn("customer_id").toArray()) {
    if (id !== null) matched.customerIds.add(String(id));
  }
}

/**
 * The staged rows with the watchlist applied (the plugin's `afterStaging`):
 * listed facilities in stage 1 move to stage 2 with `stageReason`; listed
 * ones not in stage 3 get `stageReason` in `stage_triggers` when the frame
 * has that column as a list. Columns and their types are kept.
 */
export async function applyWatchlist(
  staged: LazyFrame,
  entries: WatchlistEntry[],
  stageReason: string,
): Promise<LazyFrame> {
  // The columns' types, without reading a row.
  const schema = (await staged.head(0).collect()).schema as Record<
    string,
    DataType
  >;
  for (const c of ["loan_id", "customer_id", "stage", "stage_reason"]) {
    if (!(c in schema)) {
      throw new UserError(
        "input",
        `Plugin ${NAME}: afterStaging: the staged rows have no ${c} column`,
      );
    }
  }
  const listed = listedExpr(entries);
  const stage = pl.col("stage");
  const moves = listed.and(stage.eq(1));
  const updates = [
    pl.when(moves).then(pl.lit(2)).otherwise(stage).cast(schema.stage)
      .alias("stage"),
    pl.when(moves).then(pl.lit(stageReason)).otherwise(pl.col("stage_reason"))
      .cast(schema.stage_reason).alias("stage_reason"),
  ];
  const triggers = schema.stage_triggers;
  if (triggers !== undefined && triggers.variant === "List") {
    updates.push(
      pl.when(listed.and(stage.neq(3)))
        .then(pl.concatList([pl.col("stage_triggers"), pl.lit(stageReason)]))
        .otherwise(pl.col("stage_triggers")).cast(triggers)
        .alias("stage_triggers"),
    );
  }
  return staged.withColumns(...updates);
}

/** Builds the watchlist plugin from its options (reads the CSV now). */
export default async function watchlist(
  options: Record<string, unknown>,
): Promise<Plugin> {
  const opts = parseOptions(NAME, WatchlistOptions, options);
  const entries = await readWatchlist(opts.file);
  // The ids matched, per run (a run stages its book in chunks).
  const matches = new Map<
    string,
    { loanIds: Set<string>; customerIds: Set<string> }
  >();
  const matchesOf = (runId: string) => {
    if (!matches.has(runId)) {
      matches.set(runId, { loanIds: new Set(), customerIds: new Set() });
    }
    return matches.get(runId)!;
  };
  return {
    name: NAME,
    afterStaging: async (frame: LazyFrame, context: PluginContext) => {
      const out = await applyWatchlist(frame, entries, opts.stage_reason);
      await recordMatches(frame, entries, matchesOf(context.runId));
      return out;
    },
    onReport: (context: PluginContext) => {
      const unmatched = unmatchedIds(entries, matchesOf(context.runId));
      matches.delete(context.runId);
      return {
        title: "Watchlist",
        html: String(html`
          <p>${entries.length} entries from ${opts.file}; listed
          facilities in stage 1 are in stage 2 with reason <code>${opts
            .stage_reason}</code>.</p>
          ${unmatched.length === 0 ? "" : html`
            <p
              class="warning">${unmatched
                .length} listed ${unmatched.length === 1
                ? "id"
                : "ids"} matched no facility: ${unmatched.join(", ")}</p>
          `}
          <table>
            <thead>
              <tr>
                <th>customer</th>
                <th>facility</th>
                <th>reason</th>
              </tr>
            </thead>
            <tbody>
          ${entries.map((e) =>
            html`
              <tr>
                <td>${e.customerId ?? ""}</td>
                <td>${e.loanId ?? ""}</td>
                <td>${e.reason}</td>
              </tr>
            `
          )}</tbody>
          </table>
        `),
      };
    },
  };
}
