/**
 * The rules' `capital:` section (docs/capital.md, lib/capital; kept beside
 * lib/rules.ts, like pd_source_rules.ts, so that lib/capital may import the
 * rules without a cycle): which facilities get an
 * IRB capital requirement and with which parameters. Absent: a run computes
 * no capital and its outputs are as before.
 *
 * ```yaml
 * capital:
 *   asset_classes:
 *     products: { mortgage: residential_mortgage, sme: corporate }
 *     segments: { sme_small: other_retail }   # a segment overrides its product
 *   lgd: { downturn_add_on: 0.05 }   # or { regulatory: 0.45 }
 *   maturity: 2.5                    # years (1 to 5), or "remaining" (1 to 5 years)
 *   pd_floor: 0.0005                 # one floor for every class, or per class:
 *   lgd_floor: { corporate: 0.25, residential_mortgage: 0.05 }
 * ```
 *
 * The floors are per asset class; a class the rules leave out takes the
 * Basel III (December 2017, final) default ({@link DEFAULT_PD_FLOORS},
 * {@link DEFAULT_LGD_FLOORS}). The corporate PD floor is BCBS CRE32.4
 * (0.05%; the figure not seen in the text consulted); the retail PD floors (0.05%, 0.10% for QRRE
 * revolvers) and the A-IRB LGD floors (corporate unsecured 25%; residential
 * mortgages 5%; QRRE 50%; other retail unsecured 30%) are Basel III (2017)
 * final, CRE32 (corporate and retail sections): paragraph numbers not
 * verified here. The effective maturity is bounded to 1-5 years (CRE32,
 * effective maturity).
 *
 * @module
 */
import { z } from "zod";
import { bound, isMapping, mapping, shown } from "./_config_file.ts";

/**
 * The IRB asset classes the capital section maps to and
 * `irbRiskWeight` (lib/capital/irb.ts) knows.
 */
export const ASSET_CLASSES = [
  "corporate",
  "residential_mortgage",
  "qualifying_revolving_retail",
  "other_retail",
] as const;

/** One of {@link ASSET_CLASSES}. */
export type AssetClass = (typeof ASSET_CLASSES)[number];

/** Largest LGD add-on: an LGD moves within [0, 1]. */
export const MAX_LGD_ADD_ON = 1;

/**
 * Basel III (2017) final PD floors by asset class: 0.05% for corporate
 * (CRE32.4) and retail, 0.10% for qualifying revolving retail (every QRRE
 * facility is treated as a revolver; the 0.05% of transactors is not used).
 */
export const DEFAULT_PD_FLOORS: Readonly<Record<AssetClass, number>> = Object
  .freeze({
    corporate: 0.0005,
    residential_mortgage: 0.0005,
    qualifying_revolving_retail: 0.001,
    other_retail: 0.0005,
  });

/**
 * Basel III (2017) final A-IRB LGD floors by asset class, for unsecured
 * exposures (the floors of secured exposures are lower; the run does not
 * split by collateral, so the unsecured floor applies to every facility of
 * the class): corporate 25%, residential mortgages 5%, QRRE 50%, other
 * retail 30%.
 */
export const DEFAULT_LGD_FLOORS: Readonly<Record<AssetClass, number>> = Object
  .freeze({
    corporate: 0.25,
    residential_mortgage: 0.05,
    qualifying_revolving_retail: 0.5,
    other_retail: 0.3,
  });

/** The effective maturity rule of corporate exposures. */
export type MaturityRule = number | "remaining";

/** The rules' `capital:` section, typed, with defaults filled in. */
export interface CapitalRules {
  /** Asset class by product and by segment (a segment's entry wins). */
  asset_classes: {
    /** Product name to asset class. */
    products: Record<string, AssetClass>;
    /** Segment name to asset class. */
    segments: Record<string, AssetClass>;
  };
  /**
   * The regulatory LGD: one figure for every facility (`regulatory`), or a
   * downturn add-on to the base scenario's LGD at month 1 (`downturn_add_on`),
   * capped at 1.
   */
  lgd: { regulatory: number } | { downturn_add_on: number };
  /**
   * Scenario whose LGD the add-on is applied to. @default "base", else the
   * first scenario
   */
  lgd_scenario?: string;
  /**
   * Effective maturity M of corporate exposures: a fixed number of years
   * (1 ≤ M ≤ 5), or `remaining`, the remaining term bounded to 1-5 years
   * (CRE32, effective maturity). @default 2.5
   */
  maturity: MaturityRule;
  /**
   * Floor of the PD of exposures not in default, by asset class; the rules
   * give one number for every class or a mapping of some classes.
   * @default DEFAULT_PD_FLOORS
   */
  pd_floor: Record<AssetClass, number>;
  /**
   * Floor of the regulatory LGD, by asset class, as `pd_floor`.
   * @default DEFAULT_LGD_FLOORS
   */
  lgd_floor: Record<AssetClass, number>;
}

const rate = z.number().min(0).max(1);
const assetClass = z.enum(ASSET_CLASSES, {
  error: (issue) =>
    `must be one of ${ASSET_CLASSES.join(", ")}, got ${shown(issue.input)}`,
});

/**
 * A floor per asset class: one number for every class, or a mapping of
 * some classes; the classes left out take `defaults`.
 */
function floors(
  value: z.ZodNumber,
  defaults: Readonly<Record<AssetClass, number>>,
) {
  return z.union([
    value,
    z.partialRecord(assetClass, value),
  ], {
    error: `must be a number or a mapping of asset classes (${
      ASSET_CLASSES.join(", ")
    }) to numbers`,
  })
    .optional().transform((v): Record<AssetClass, number> =>
      typeof v === "number"
        ? Object.fromEntries(ASSET_CLASSES.map((c) => [c, v])) as Record<
          AssetClass,
          number
        >
        : { ...defaults, ...(v ?? {}) }
    );
}

/** The keys of a mapping in the rules document, or undefined. */
const keysOf = (v: unknown) => isMapping(v) ? Object.keys(v) : undefined;

/**
 * The schema of the `capital:` section of the rules document `doc`: a
 * product it maps must be one of `products`, and `lgd_scenario` one of
 * `scenarios` (when those are readable; else they are not checked here).
 */
export function capitalSchema(doc: unknown): z.ZodType<CapitalRules> {
  const products = keysOf(isMapping(doc) ? doc.products : undefined);
  const scenarioList = isMapping(doc) ? doc.scenarios : undefined;
  const scenarios = Array.isArray(scenarioList)
    ? scenarioList.map((x) => isMapping(x) ? x.name : undefined)
    : undefined;
  return mapping({
    asset_classes: mapping({
      products: z.record(z.string(), assetClass).default({}).superRefine(
        (map, ctx) => {
          for (const p of Object.keys(map)) {
            const product = isMapping(doc) && isMapping(doc.products)
              ? doc.products[p]
              : undefined;
            if (isMapping(product) && product.approach === "simplified") {
              // Such facilities carry no PD (IFRS 9 §5.5.15), so the run
              // cannot give them IRB capital: refused, not left out silently.
              ctx.addIssue({
                code: "custom",
                path: [p],
                message:
                  "is on the simplified approach (IFRS 9 §5.5.15): its facilities have no PD, so no IRB capital; leave it out of capital.asset_classes",
              });
              continue;
            }
            if (products === undefined || products.includes(p)) continue;
            ctx.addIssue({
              code: "custom",
              path: [p],
              message: `is not a product of the rules (products: ${
                products.join(", ")
              })`,
            });
          }
        },
      ),
      segments: z.record(z.string(), assetClass).default({}),
    }).refine(
      (a) =>
        Object.keys(a.products).length + Object.keys(a.segments).length > 0,
      { error: "must map at least one product or segment to an asset class" },
    ),
    lgd: z.union([
      mapping({ regulatory: rate }),
      mapping({
        downturn_add_on: z.number().min(0).max(
          MAX_LGD_ADD_ON,
          bound("an LGD cannot exceed 1"),
        ),
      }),
    ], {
      error: "must be { regulatory: LGD } or { downturn_add_on: ADD_ON }",
    }),
    lgd_scenario: z.string().min(1).refine(
      (n) => scenarios === undefined || scenarios.includes(n),
      {
        error: (issue) =>
          `names no scenario (scenarios: ${
            (scenarios ?? []).join(", ")
          }), got ${shown(issue.input)}`,
      },
    ).optional(),
    maturity: z.union([
      z.number().min(
        1,
        bound("Basel floors the effective maturity at 1 year, CRE32"),
      ).max(
        5,
        bound("Basel caps the effective maturity at 5 years, CRE32"),
      ),
      z.literal("remaining"),
    ], { error: 'must be a number of years (1 to 5) or "remaining"' })
      .default(2.5),
    pd_floor: floors(z.number().min(0).lt(1), DEFAULT_PD_FLOORS),
    lgd_floor: floors(rate, DEFAULT_LGD_FLOORS),
  }) as unknown as z.ZodType<CapitalRules>;
}
