/**
 * The IFRS 7 credit-risk tables as a run shows them: read back from
 * `summary.json` ({@link disclosuresOf}), as a CSV of tagged figures for BI
 * and filing ({@link ifrs7Csv}, beside the star-schema exports) and as a
 * section of `report.html` ({@link ifrs7Section}).
 *
 * @module
 */
import {
  type AmountUnit,
  formatCount,
  formatInUnit,
  formatPercent,
  unitLabel,
} from "../format.ts";
import { type Column, type Markup, note, section, table } from "../page.ts";
import {
  IFRS7_COLUMN_LABELS,
  IFRS7_COLUMNS,
  type Ifrs7Amounts,
  type Ifrs7Column,
  type Ifrs7Disclosures,
} from "./ifrs7.ts";
import { COLUMN_MEMBERS, TAXONOMY, unconfirmedNames } from "./taxonomy.ts";

/**
 * The IFRS 7 tables a summary carries (`summary.json` `disclosures`), or
 * null when it has none (a run written before they existed).
 */
export function disclosuresOf(summary: unknown): Ifrs7Disclosures | null {
  const d = (summary as { disclosures?: unknown } | null)?.disclosures;
  if (typeof d !== "object" || d === null) return null;
  const x = d as Partial<Ifrs7Disclosures>;
  return Array.isArray(x.cells) && typeof x.totals === "object" &&
      x.totals !== null
    ? d as Ifrs7Disclosures
    : null;
}

/** The header of {@link ifrs7Csv}. */
export const IFRS7_CSV_COLUMNS = [
  "run_id",
  "reporting_date",
  "table",
  "grade",
  "column",
  "measure",
  "amount",
  "currency",
  "ifrs_element",
  "ifrs_members",
  "paragraph",
  "element_verified",
] as const;

const csvField = (v: string | number) => {
  const s = typeof v === "number" ? String(v) : v;
  // Spreadsheet-safe: a text starting with = + - @ would run as a formula.
  const safe = typeof v === "string" && /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

/**
 * The `table` of the CSV line giving the amount written off in the period:
 * not an IFRS 7 §35L figure, so it has no taxonomy element.
 */
export const WRITTEN_OFF_TABLE = "written_off_in_period";

/**
 * The figures of the tables as CSV, one per line (long format: one measure
 * of one cell), each with its IFRS Accounting Taxonomy element and axis
 * members (`axis=member`, `|`-separated) and whether the element and every
 * member were confirmed against a published taxonomy page (`false` on stage
 * lines: the stage members are not confirmed); a count has no element. Amounts are in the reporting currency, unrounded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { ifrs7Csv, ifrs7Tables } from "./mod.ts";
 *
 * const d = await ifrs7Tables(pl.DataFrame({
 *   loan_id: ["A"], currency: ["EUR"], product: ["sme"], stage: [1],
 *   rating: ["R03"], ecl: [2], gross_carrying_amount: [100],
 * }).lazy(), { reportingCurrency: "EUR", rates: { EUR: 1 }, simplifiedProducts: [] });
 * const lines = ifrs7Csv(d, { runId: "q4", reportingDate: "2025-12-31" }).split("\n");
 * assert.match(lines[2], /^q4,2025-12-31,35M,R03,stage_1,gross_carrying_amount,100,EUR,ifrs-full:FinancialAssets,/);
 * ```
 */
export function ifrs7Csv(
  d: Ifrs7Disclosures,
  run: { runId: string; reportingDate: string },
): string {
  const lines: string[] = [IFRS7_CSV_COLUMNS.join(",")];
  const line = (
    tableName: string,
    grade: string,
    column: string,
    measure: string,
    amount: number,
    tagKey: string | null,
    extraMember?: string,
  ) => {
    // A count of facilities has no taxonomy element: only its members.
    const tag = tagKey === null
      ? {
        element: "",
        members: [],
        paragraph: tableName === WRITTEN_OFF_TABLE ? "" : "IFRS 7 §35M",
        verified: false,
        unconfirmed: [],
      }
      : TAXONOMY[tagKey];
    const members = [...tag.members, ...(extraMember ? [extraMember] : [])];
    lines.push(
      [
        run.runId,
        run.reportingDate,
        tableName,
        grade,
        column,
        measure,
        amount,
        d.reporting_currency,
        tag.element,
        members.join("|"),
        tag.paragraph,
        // A stage line adds the stage members, none of them confirmed.
        String(
          tag.verified &&
            (extraMember === undefined ||
              unconfirmedNames("", [extraMember]).length === 0),
        ),
      ].map(csvField).join(","),
    );
  };
  const measures = (
    grade: string,
    column: Ifrs7Column | "total",
    a: Ifrs7Amounts,
  ) => {
    const member = column === "total" ? undefined : COLUMN_MEMBERS[column];
    line("35M", grade, column, "count", a.count, null, member);
    line(
      "35M",
      grade,
      column,
      "gross_carrying_amount",
      a.gross_carrying_amount,
      "gross_carrying_amount",
      member,
    );
    line(
      "35M",
      grade,
      column,
      "loss_allowance",
      a.loss_allowance,
      "loss_allowance",
      member,
    );
    if (a.provision !== 0) {
      line("35M", grade, column, "provision", a.provision, "provision", member);
    }
  };
  for (const c of d.cells) measures(c.grade, c.column, c);
  for (const c of IFRS7_COLUMNS) measures("total", c, d.by_column[c]);
  measures("total", "total", d.totals);
  const ci = d.credit_impaired;
  line(
    "35M(b)(ii)",
    "total",
    "credit_impaired",
    "gross_carrying_amount",
    ci.gross_carrying_amount,
    "credit_impaired_gross_carrying_amount",
  );
  line(
    "35M(b)(ii)",
    "total",
    "credit_impaired",
    "loss_allowance",
    ci.loss_allowance,
    "credit_impaired_loss_allowance",
  );
  if (ci.collateral_capped !== null && ci.collateral_value !== null) {
    line(
      "35K(c)",
      "total",
      "credit_impaired",
      "collateral_capped_at_gross_carrying_amount",
      ci.collateral_capped,
      "credit_impaired_collateral",
    );
    line(
      "35K(c)",
      "total",
      "credit_impaired",
      "collateral_value",
      ci.collateral_value,
      "credit_impaired_collateral",
    );
  }
  if (d.written_off.written_off_in_period !== null) {
    if (d.written_off.enforcement_available) {
      line(
        "35L",
        "total",
        "written_off",
        "still_subject_to_enforcement",
        d.written_off.written_off_in_period,
        "written_off_enforcement",
      );
    } else {
      // Not the §35L figure: the amount written off in the period, with no
      // taxonomy element and no paragraph.
      line(
        WRITTEN_OFF_TABLE,
        "total",
        "total",
        "amount_written_off_in_period",
        d.written_off.written_off_in_period,
        null,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** One row of the §35M table on the page: a grade and its four columns. */
interface PageRow {
  grade: string;
  cells: Partial<Record<Ifrs7Column, Ifrs7Amounts>>;
  total: Ifrs7Amounts;
}

/**
 * The IFRS 7 section of `report.html`: the §35M table (gross carrying
 * amount and loss allowance by grade and column, in `unit`), the
 * credit-impaired loans with their collateral (§35K(c)) and what the data
 * says about §35L; each heading names the taxonomy element.
 */
export function ifrs7Section(d: Ifrs7Disclosures, unit: AmountUnit): Markup {
  const amount = (v: number | undefined) =>
    v === undefined ? "–" : formatInUnit(v, unit);
  const used = IFRS7_COLUMNS.filter((c) => d.by_column[c].count > 0);
  const rows: PageRow[] = d.grades.map((grade) => {
    const cells: PageRow["cells"] = {};
    const total = {
      count: 0,
      gross_carrying_amount: 0,
      loss_allowance: 0,
      provision: 0,
    };
    for (const c of d.cells.filter((x) => x.grade === grade)) {
      cells[c.column] = c;
      total.count += c.count;
      total.gross_carrying_amount += c.gross_carrying_amount;
      total.loss_allowance += c.loss_allowance;
      total.provision += c.provision;
    }
    return { grade, cells, total };
  });
  const footer: PageRow = {
    grade: "Total",
    cells: d.by_column,
    total: d.totals,
  };
  const measureTable = (
    measure: "gross_carrying_amount" | "loss_allowance",
    title: string,
  ) => {
    const cols: Column<PageRow>[] = [
      { label: "Grade", value: (r) => r.grade },
      ...used.map((c) => ({
        label: IFRS7_COLUMN_LABELS[c],
        value: (r: PageRow) => amount(r.cells[c]?.[measure]),
        numeric: true,
      })),
      { label: "Total", value: (r) => amount(r.total[measure]), numeric: true },
      ...(measure === "loss_allowance"
        ? [{
          label: "Coverage",
          value: (r: PageRow) =>
            formatPercent(
              r.total.gross_carrying_amount > 0
                ? r.total.loss_allowance / r.total.gross_carrying_amount
                : null,
            ),
          numeric: true,
        }]
        : []),
    ];
    return table(cols, rows, {
      caption: `${title} (${unitLabel(d.reporting_currency, unit)}) — ${
        TAXONOMY[measure].element
      }`,
      footer: [footer],
    });
  };
  const ci = d.credit_impaired;
  const gradeNote = d.grade_source === "rating"
    ? "Grades: the portfolio's internal rating."
    : d.grade_source === "master_scale"
    ? `Grades: the 12-month PD on the master scale (${
      d.master_scale.map((g) => `${g.grade} ≤ ${formatPercent(g.upper_pd)}`)
        .join(", ")
    }); the portfolio has no rating.`
    : "Grades: the portfolio's internal rating where a facility has one, else its 12-month PD on the master scale.";
  return section("ifrs7", "IFRS 7 credit risk", [
    note(
      `${gradeNote} The loss allowance is each facility's ECL up to its gross carrying amount (B8E); the totals equal the run's. The elements and the grade and carrying-amount members were confirmed against published taxonomy pages; the stage members, the §35K(c), §35L and provision elements were not (docs/disclosures.md).`,
    ),
    measureTable(
      "gross_carrying_amount",
      "§35M gross carrying amount by grade",
    ),
    measureTable("loss_allowance", "§35M loss allowance by grade"),
    table(
      [
        { label: "Figure", value: (r: [string, string, string]) => r[0] },
        { label: "Amount", value: (r) => r[1], numeric: true },
        { label: "IFRS taxonomy element", value: (r) => r[2], wrap: true },
      ],
      [
        [
          "Credit-impaired loans (lifetime ECL), facilities",
          formatCount(ci.count),
          "",
        ],
        [
          "Credit-impaired: gross carrying amount (§35M(b)(ii))",
          amount(ci.gross_carrying_amount),
          TAXONOMY.credit_impaired_gross_carrying_amount.element,
        ],
        [
          "Credit-impaired: loss allowance",
          amount(ci.loss_allowance),
          TAXONOMY.credit_impaired_loss_allowance.element,
        ],
        [
          "Collateral held, capped at gross carrying amount (§35K(c))",
          ci.collateral_capped === null
            ? "not in the data"
            : amount(ci.collateral_capped),
          TAXONOMY.credit_impaired_collateral.element,
        ],
        [
          "Collateral held, value (§35K(c))",
          ci.collateral_value === null
            ? "not in the data"
            : amount(ci.collateral_value),
          TAXONOMY.credit_impaired_collateral.element,
        ],
        [
          "Written off, still subject to enforcement (§35L)",
          "not in the data",
          "",
        ],
        [
          "Amount written off in the period (not the §35L figure)",
          d.written_off.written_off_in_period === null
            ? "not in the data"
            : amount(d.written_off.written_off_in_period),
          "",
        ],
      ],
      {
        caption: `Credit-impaired assets and write-offs (${
          unitLabel(d.reporting_currency, unit)
        })`,
      },
    ),
    note(d.written_off.note),
  ]);
}
