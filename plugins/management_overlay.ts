/**
 * Management-overlay plugin: post-model adjustments (methodology §8) kept
 * in a CSV signed off line by line, with an audit trail in the report.
 *
 * Each CSV line is one overlay: a `segment` or a `product` (the facilities
 * it selects; a `;`-separated list is allowed, both may be given), a
 * `multiplier` or an `add` (an amount in the reporting currency for the
 * selection as a whole, shared pro rata to its ECL, as in the rules file),
 * an `approver` and a `reason`, and optionally a `name` (default
 * `management:<line>`). A line without an approver or a reason, or with
 * both or neither of `multiplier` and `add`, is refused naming the line.
 *
 * After the ECL (`afterEcl`), the overlays apply in file order with
 * `applyOverlays` of the library on top of the ECL the rules' own overlays
 * left: each facility keeps `ecl = ecl_model + sum(overlay_impacts) +
 * overlay_floor`, the plugin's overlays appended to `overlays_applied` and
 * `overlay_impacts` after the rules' ones, and `ecl_rc` follows. An `add`
 * needs the whole book at once (methodology §8 shares it over everything it
 * selects), so a run computed in several chunks is refused when the CSV
 * holds an `add`; a multiplier applies chunk by chunk. The report gets an
 * audit-trail section: each adjustment, its approver, reason, facilities
 * and ECL impact in the reporting currency.
 *
 * ```yaml
 * plugins:
 *   - module: ../plugins/management_overlay.ts
 *     options: { file: /data/risk/overlays_2025Q4.csv }
 * ```
 *
 * @module
 */
import pl from "nodejs-polars";
import { html } from "hono/html";
import { z } from "zod";
import {
  applyOverlays,
  type DataType,
  type FxTable,
  type LazyFrame,
  type Overlay,
  type Plugin,
  type PluginContext,
  UserError,
} from "../lib/mod.ts";
import { parseOptions, readCsvRows } from "./_common.ts";

/** The plugin's name in errors, the manifest and the report. */
export const NAME = "management_overlay";

/** The options the rules file gives the plugin. */
export const ManagementOverlayOptions = z.object({
  /** The overlays CSV (see the module documentation). */
  file: z.string().min(1, "must be the path of the overlays CSV"),
}).strict();

/** One signed-off overlay: the rules' overlay plus who approved it. */
export interface ApprovedOverlay {
  /** The overlay as `applyOverlays` takes it. */
  overlay: Overlay;
  /** Who approved it. */
  approver: string;
  /** Its line in the CSV. */
  line: number;
}

/** "an approver", "a reason". */
const article = (word: string) => /^[aeiou]/.test(word) ? "an" : "a";

/** A number cell, or a `UserError` naming the line and column. */
function numberCell(
  file: string,
  line: number,
  column: string,
  text: string,
): number {
  const value = Number(text);
  if (!Number.isFinite(value)) {
    throw new UserError(
      "input",
      `Plugin ${NAME}: ${file} line ${line}: ${column} must be a number, got ${text}`,
    );
  }
  return value;
}

/** Reads and checks an overlays CSV. */
export async function readOverlays(file: string): Promise<ApprovedOverlay[]> {
  const { rows } = await readCsvRows(NAME, file, (columns) => {
    const missing = [
      ...(!columns.includes("segment") && !columns.includes("product")
        ? ["a segment or a product column"]
        : []),
      ...(!columns.includes("multiplier") && !columns.includes("add")
        ? ["a multiplier or an add column"]
        : []),
      ...["approver", "reason"].filter((c) => !columns.includes(c))
        .map((c) => `${article(c)} ${c} column`),
    ];
    return missing.length > 0 ? `needs ${missing.join(", ")}` : undefined;
  });
  const list = (text: string | null | undefined) =>
    text ? text.split(";").map((s) => s.trim()).filter((s) => s !== "") : [];
  return rows.map(({ line, cells }) => {
    const where = `Plugin ${NAME}: ${file} line ${line}`;
    for (const c of ["approver", "reason"]) {
      if (!cells[c]) {
        throw new UserError("input", `${where}: needs ${article(c)} ${c}`);
      }
    }
    const segment = list(cells.segment), product = list(cells.product);
    if (segment.length === 0 && product.length === 0) {
      throw new UserError("input", `${where}: needs a segment or a product`);
    }
    const m = cells.multiplier, a = cells.add;
    if ((m === null || m === undefined) === (a === null || a === undefined)) {
      throw new UserError(
        "input",
        `${where}: needs exactly one of multiplier and add`,
      );
    }
    const overlay: Overlay = {
      name: cells.name ?? `management:${line}`,
      filter: {
        ...(segment.length > 0 ? { segment } : {}),
        ...(product.length > 0 ? { product } : {}),
      },
      ...(m ? { multiplier: numberCell(file, line, "multiplier", m) } : {}),
      ...(a ? { add: numberCell(file, line, "add", a) } : {}),
      reason: cells.reason!,
    };
    return { overlay, approver: cells.approver!, line };
  });
}

/** Per overlay name: facilities selected and ECL impact (reporting currency). */
type Impacts = Map<string, { facilities: number; impact: number }>;

/** Columns the plugin moves aside while `applyOverlays` runs. */
const KEPT = [
  "ecl_model",
  "overlays_applied",
  "overlay_impacts",
  "overlay_floor",
];
const kept = (c: string) => `__management_${c}`;

/**
 * Applies `overlays` to loan results on top of the ECL they hold: the
 * library's `applyOverlays` with `ecl_model` standing for the current
 * `ecl`, then the rules' record and the plugin's merged (lists
 * concatenated, floors added). Returns the frame and each overlay's impact.
 */
export async function applyOnTop(
  results: LazyFrame,
  overlays: Overlay[],
  context: PluginContext,
): Promise<{ frame: LazyFrame; impacts: Impacts }> {
  const schema = (await results.head(0).collect()).schema as Record<
    string,
    DataType
  >;
  const present = KEPT.filter((c) => c in schema);
  const currency = context.rules.reporting_currency;
  let fx: FxTable | undefined;
  if (overlays.some((o) => o.add) && "fx_rate" in schema) {
    // The run's closing rates, as the results carry them per facility.
    const pairs = (await results.select("currency", "fx_rate").unique()
      .collect()).toRecords() as { currency: string; fx_rate: number }[];
    fx = {
      file: `${NAME} (rates of the run's loan results)`,
      sha256: "",
      base: currency,
      as_of: context.reportingDate,
      rates: Object.fromEntries([
        [currency, 1],
        ...pairs.map((p) => [p.currency, p.fx_rate]),
      ]),
    };
  }
  const input = results
    .withColumns(...present.map((c) => pl.col(c).alias(kept(c))))
    .withColumns(pl.col("ecl").alias("ecl_model"));
  const applied = await applyOverlays(input, overlays, {
    fx,
    reportingCurrency: currency,
  });
  // Each plugin overlay's impact, in the reporting currency.
  const rate = "fx_rate" in schema ? pl.col("fx_rate") : pl.lit(1);
  const exploded = await applied
    .select(
      pl.col("overlays_applied").alias("__name"),
      pl.col("overlay_impacts").alias("__impact"),
      rate.cast(pl.Float64).alias("__rate"),
    )
    .explode(["__name", "__impact"])
    .filter(pl.col("__name").isNotNull())
    .groupBy("__name")
    .agg(
      pl.len().alias("facilities"),
      pl.col("__impact").mul(pl.col("__rate")).sum().alias("impact"),
    )
    .collect();
  const impacts: Impacts = new Map(
    (exploded.toRecords() as Record<string, unknown>[]).map((r) => [
      String(r.__name),
      { facilities: Number(r.facilities), impact: Number(r.impact) },
    ]),
  );
  // The rules' record first, then the plugin's.
  const merged = [
    pl.col(kept("ecl_model")).alias("ecl_model"),
    ...(present.includes("overlays_applied")
      ? [
        pl.concatList([
          pl.col(kept("overlays_applied")),
          pl.col("overlays_applied"),
        ]).alias("overlays_applied"),
        pl.concatList([
          pl.col(kept("overlay_impacts")),
          pl.col("overlay_impacts"),
        ]).alias("overlay_impacts"),
        pl.col(kept("overlay_floor")).add(pl.col("overlay_floor"))
          .alias("overlay_floor"),
      ]
      : []),
  ];
  const columns = Object.keys(schema);
  const frame = applied.withColumns(...merged)
    .select(
      ...columns,
      ...["overlays_applied", "overlay_impacts", "overlay_floor"]
        .filter((c) => !columns.includes(c)),
    )
    .withColumns(...columns.map((c) => pl.col(c).cast(schema[c])));
  return { frame, impacts };
}

/** Builds the management-overlay plugin (reads and checks the CSV now). */
export default async function managementOverlay(
  options: Record<string, unknown>,
): Promise<Plugin> {
  const opts = parseOptions(NAME, ManagementOverlayOptions, options);
  const approved = await readOverlays(opts.file);
  const overlays = approved.map((a) => a.overlay);
  const allocates = overlays.some((o) => o.add !== undefined);
  // Per run: the valid rows (an add needs them in one chunk) and the
  // impacts added up over the chunks.
  const validRows = new Map<string, number>();
  const impactsByRun = new Map<string, Impacts>();
  return {
    name: NAME,
    async afterValidate(frame, context) {
      if (!allocates) return;
      const n = await frame.select(pl.len().alias("n")).collect();
      validRows.set(context.runId, Number(n.getColumn("n").get(0)));
    },
    async afterEcl(frame, context) {
      if (overlays.length === 0) return;
      if (allocates) {
        const rows = Number(
          (await frame.select(pl.len().alias("n")).collect()).getColumn("n")
            .get(0),
        );
        const total = validRows.get(context.runId);
        if (total !== rows) {
          throw new UserError(
            "input",
            `Plugin ${NAME}: afterEcl: ${opts.file} holds an add overlay, shared over the whole book (methodology §8), but this run computes its ${
              total ?? "unknown number of"
            } facilities in chunks (this one has ${rows}); use a multiplier, put the add in the rules file's overlays, or run with one chunk`,
          );
        }
      }
      const { frame: out, impacts } = await applyOnTop(
        frame,
        overlays,
        context,
      );
      const sums: Impacts = impactsByRun.get(context.runId) ?? new Map();
      for (const [name, v] of impacts) {
        const s = sums.get(name) ?? { facilities: 0, impact: 0 };
        sums.set(name, {
          facilities: s.facilities + v.facilities,
          impact: s.impact + v.impact,
        });
      }
      impactsByRun.set(context.runId, sums);
      return out;
    },
    onReport(context) {
      const sums = impactsByRun.get(context.runId) ?? new Map();
      const cur = context.rules.reporting_currency;
      const fmt = (x: number) =>
        x.toLocaleString("en-US", {
          minimumFractionDigits: 2,
          maximumFractionDigits: 2,
        });
      const rows = approved.map(({ overlay: o, approver, line }) => {
        const s = sums.get(o.name) ?? { facilities: 0, impact: 0 };
        const what = o.multiplier !== undefined
          ? `× ${o.multiplier}`
          : `add ${fmt(o.add!)} ${cur}`;
        const scope = [
          ...(o.filter.segment
            ? [`segment ${o.filter.segment.join(", ")}`]
            : []),
          ...(o.filter.product
            ? [`product ${o.filter.product.join(", ")}`]
            : []),
        ].join("; ");
        return html`
          <tr>
            <td>${line}</td>
            <td>${o.name}</td>
            <td>${scope}</td>
            <td>${what}</td>
            <td>${approver}</td>
            <td>${o.reason}</td>
            <td class="num">${s.facilities}</td>
            <td class="num">${fmt(s.impact)}</td>
          </tr>
        `;
      });
      return {
        title: "Management overlays (audit trail)",
        html: String(
          html`
            <p>From ${opts
              .file}, applied after the rules' overlays, in this order; ECL impact in ${cur}.</p>
            <table>
              <thead>
                <tr>
                  <th>line</th>
                  <th>overlay</th>
                  <th>applies to</th>
                  <th>adjustment</th>
                  <th>approver</th>
                  <th>reason</th>
                  <th>facilities</th>
                  <th>ECL impact</th>
                </tr>
              </thead>
              <tbody>${rows}</tbody>
            </table>
          `,
        ),
      };
    },
  };
}
