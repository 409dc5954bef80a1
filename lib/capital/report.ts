/**
 * The "IRB capital" section of report.html (docs/capital.md): RWA and
 * capital by asset class and stage (BCBS CRE31), and regulatory expected
 * loss against the IFRS 9 allowance with the shortfall or excess (CRE35),
 * from `summary.json`'s `capital` section.
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
import { cards, type Markup, note, section, table } from "../page.ts";
import type { CapitalGroup, CapitalSummary, ElComparison } from "./run.ts";

/** A rate as a percentage with up to four decimals (a floor of 0.03%). */
const pct = (v: number) => `${Number((v * 100).toFixed(4))}%`;

/** The section's id in the page (its navigation link). */
export const CAPITAL_SECTION_ID = "capital";

/** The report section of a run's capital summary. */
export function capitalSection(
  c: CapitalSummary,
  reportingCurrency: string,
  unit: AmountUnit,
): Markup {
  const cur = unitLabel(reportingCurrency, unit);
  const amount = (v: number) => formatInUnit(v, unit);
  const e = c.el_vs_allowance;
  const pools: [string, ElComparison][] = [
    ["Not in default", e.non_defaulted],
    ["In default (stage 3, or a floored PD of 1)", e.defaulted],
    ["Total", e.total],
  ];
  return section(CAPITAL_SECTION_ID, "IRB capital", [
    cards([
      { label: `RWA (${cur})`, value: amount(c.totals.rwa) },
      {
        label: `Capital requirement (${cur})`,
        value: amount(c.totals.capital),
        note: "K × EAD, 8% of RWA",
      },
      {
        label: "Average risk weight",
        value: formatPercent(
          c.totals.ead > 0 ? c.totals.rwa / c.totals.ead : 0,
        ),
        note: "RWA / EAD",
      },
      {
        label: `CET1 deduction (${cur})`,
        value: amount(e.cet1_deduction),
        note:
          "EL shortfall over the allowance: non-defaulted net plus defaulted shortfall (CRE35)",
      },
      {
        label: `Tier 2 eligible excess (${cur})`,
        value: amount(e.tier2_eligible_excess),
        note: "net excess, at most 0.6% of RWA",
      },
      {
        label: "Facilities",
        value: formatCount(c.facilities),
        note: `${formatCount(c.excluded_facilities)} left out (no asset class)`,
      },
    ]),
    table(
      [
        { label: "Asset class", value: (r: CapitalGroup) => r.asset_class },
        { label: "Stage", value: (r) => String(r.stage) },
        {
          label: "Facilities",
          value: (r) => formatCount(r.count),
          numeric: true,
        },
        { label: `EAD (${cur})`, value: (r) => amount(r.ead), numeric: true },
        { label: `RWA (${cur})`, value: (r) => amount(r.rwa), numeric: true },
        {
          label: "Risk weight",
          value: (r) => formatPercent(r.ead > 0 ? r.rwa / r.ead : 0),
          numeric: true,
        },
        {
          label: `Capital (${cur})`,
          value: (r) => amount(r.capital),
          numeric: true,
        },
        {
          label: `Regulatory EL (${cur})`,
          value: (r) => amount(r.regulatory_el),
          numeric: true,
        },
        {
          label: `Allowance (${cur})`,
          value: (r) => amount(r.allowance),
          numeric: true,
        },
      ],
      c.by_asset_class_stage,
      { caption: "RWA and capital by asset class and stage (BCBS CRE31)" },
    ),
    table(
      [
        { label: "Pool", value: (r: [string, ElComparison]) => r[0] },
        {
          label: `Regulatory EL (${cur})`,
          value: (r) => amount(r[1].regulatory_el),
          numeric: true,
        },
        {
          label: `IFRS 9 allowance (${cur})`,
          value: (r) => amount(r[1].allowance),
          numeric: true,
        },
        {
          label: `Shortfall (${cur})`,
          value: (r) => amount(r[1].shortfall),
          numeric: true,
        },
        {
          label: `Excess (${cur})`,
          value: (r) => amount(r[1].excess),
          numeric: true,
        },
      ],
      pools,
      {
        caption:
          "Regulatory expected loss against the IFRS 9 allowance (BCBS CRE35)",
      },
    ),
    note(
      `${c.basis}. PD floors ${byClass(c.parameters.pd_floor)}; LGD floors ${
        byClass(c.parameters.lgd_floor)
      }; LGD: ${c.parameters.lgd}; corporate maturity: ${
        c.parameters.maturity === "remaining"
          ? "remaining term, 1 to 5 years"
          : `${c.parameters.maturity} years`
      }. The allowance is the ECL (loss allowance plus provision). A defaulted pool's excess does not offset a shortfall on the others (EU CRR Art. 159(2)); a non-defaulted excess offsets a defaulted shortfall. See docs/capital.md.`,
    ),
  ]);
}

/** Floors by asset class, in words. */
function byClass(f: Record<string, number>): string {
  return Object.entries(f).map(([c, v]) => `${c} ${pct(v)}`).join(", ");
}
