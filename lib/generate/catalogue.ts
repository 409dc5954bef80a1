/**
 * The parameters of the synthetic book: products, countries and regions,
 * currencies, score bands and the quarterly credit-state dynamics. Every
 * number the generator draws from lives here, so docs/generator.md and a
 * reviewer can read the whole calibration in one place.
 *
 * Amounts are expressed in EUR-equivalent and converted to the facility
 * currency with {@link REFERENCE_FX}, which mirrors config/fx_rates.yaml
 * (a test keeps the two equal).
 *
 * @module
 */
import type { Repayment } from "../rules.ts";

/** How the product's balance is drawn and runs off. */
export interface ProductSpec {
  name: string;
  repayment: Repayment;
  /** Share of facilities (by count) in the book. */
  weight: number;
  /** Median original balance (revolving: credit limit), EUR-equivalent, Spain. */
  medianAmount: number;
  /** Log-scale dispersion of the original amount. */
  sigmaAmount: number;
  /** Original contractual term in months, drawn uniformly in [min, max]. */
  termMonths: [number, number];
  /** Spread over the country base rate (annual, decimal). */
  rateSpread: number;
  /** Annual prepayment / voluntary closure rate (CPR). */
  cpr: number;
  /** Share of facilities in each score band A..G at origination. */
  bandWeights: number[];
  /** Whether collateral is pledged: 1 always, 0 never, else the share. */
  securedShare: number;
  /** Loan-to-value at origination, Beta(a, b) scaled into [lo, hi]. */
  ltv?: { a: number; b: number; lo: number; hi: number };
  /** Annual change of the collateral value (house prices, depreciation). */
  collateralDrift: number;
  /** Quarterly write-off probability of a facility in default 2+ quarters. */
  writeOffRate: number;
}

/** The five products of methodology §10, calibrated for a retail/SME book. */
export const PRODUCTS: readonly ProductSpec[] = [
  {
    name: "mortgage",
    repayment: "annuity",
    weight: 0.18,
    medianAmount: 115_000,
    sigmaAmount: 0.55,
    termMonths: [180, 360],
    rateSpread: 0,
    cpr: 0.06,
    bandWeights: [0.30, 0.30, 0.22, 0.10, 0.05, 0.02, 0.01],
    securedShare: 1,
    ltv: { a: 6, b: 3, lo: 0.35, hi: 0.95 },
    collateralDrift: 0.02,
    writeOffRate: 0.08,
  },
  {
    name: "auto",
    repayment: "annuity",
    weight: 0.14,
    medianAmount: 17_000,
    sigmaAmount: 0.45,
    termMonths: [36, 96],
    rateSpread: 0.025,
    cpr: 0.10,
    bandWeights: [0.12, 0.22, 0.26, 0.20, 0.12, 0.06, 0.02],
    securedShare: 1,
    ltv: { a: 5, b: 2, lo: 0.5, hi: 1.0 },
    collateralDrift: -0.15,
    writeOffRate: 0.25,
  },
  {
    name: "consumer",
    repayment: "linear",
    weight: 0.24,
    medianAmount: 7_000,
    sigmaAmount: 0.7,
    termMonths: [12, 84],
    rateSpread: 0.06,
    cpr: 0.12,
    bandWeights: [0.05, 0.12, 0.22, 0.25, 0.20, 0.11, 0.05],
    securedShare: 0,
    collateralDrift: 0,
    writeOffRate: 0.3,
  },
  {
    name: "credit_card",
    repayment: "revolving",
    weight: 0.34,
    medianAmount: 2_500,
    sigmaAmount: 0.6,
    termMonths: [0, 0],
    rateSpread: 0.16,
    cpr: 0.05,
    bandWeights: [0.05, 0.10, 0.20, 0.25, 0.22, 0.12, 0.06],
    securedShare: 0,
    collateralDrift: 0,
    writeOffRate: 0.35,
  },
  {
    name: "sme",
    repayment: "bullet",
    weight: 0.10,
    medianAmount: 60_000,
    sigmaAmount: 1.0,
    termMonths: [12, 60],
    rateSpread: 0.03,
    cpr: 0.08,
    bandWeights: [0.04, 0.10, 0.20, 0.28, 0.22, 0.11, 0.05],
    securedShare: 0.5,
    ltv: { a: 4, b: 4, lo: 0.4, hi: 1.2 },
    collateralDrift: -0.03,
    writeOffRate: 0.2,
  },
];

/** Index of `credit_card` in {@link PRODUCTS}. */
export const REVOLVING_PRODUCT = PRODUCTS.findIndex((p) =>
  p.repayment === "revolving"
);

/** Score bands A..G and their 12-month PD at origination (before country). */
export const SCORE_BANDS = ["A", "B", "C", "D", "E", "F", "G"] as const;
export const BAND_PD = [0.0015, 0.004, 0.009, 0.018, 0.035, 0.07, 0.14];

/** A country of the lender's footprint. */
export interface CountrySpec {
  /** ISO 3166-1 alpha-2, lower case; used in the segment key. */
  code: string;
  /** Share of facilities by count. */
  weight: number;
  /** Regions (`region` column) and their weights. */
  regions: [name: string, weight: number][];
  /** Local currency and the share of facilities in USD (dollarisation). */
  currency: string;
  usdShare: number;
  /** Base annual lending rate in local currency (decimal). */
  baseRate: number;
  /** Size of loans relative to Spain, in EUR-equivalent. */
  sizeFactor: number;
  /** Multiplier on the band PD (country risk). */
  pdFactor: number;
}

/**
 * Spain (regions are the autonomous communities, weighted by population)
 * and five Latin American countries (one region each).
 */
export const COUNTRIES: readonly CountrySpec[] = [
  {
    code: "es",
    weight: 0.55,
    regions: [
      ["Andalucía", 8.5],
      ["Cataluña", 7.9],
      ["Comunidad de Madrid", 6.9],
      ["Comunitat Valenciana", 5.2],
      ["Galicia", 2.7],
      ["Castilla y León", 2.4],
      ["País Vasco", 2.2],
      ["Canarias", 2.2],
      ["Castilla-La Mancha", 2.1],
      ["Región de Murcia", 1.5],
      ["Aragón", 1.35],
      ["Illes Balears", 1.2],
      ["Extremadura", 1.05],
      ["Principado de Asturias", 1.0],
      ["Comunidad Foral de Navarra", 0.67],
      ["Cantabria", 0.59],
      ["La Rioja", 0.32],
    ],
    currency: "EUR",
    usdShare: 0,
    baseRate: 0.035,
    sizeFactor: 1,
    pdFactor: 1,
  },
  {
    code: "mx",
    weight: 0.15,
    regions: [["Mexico", 1]],
    currency: "MXN",
    usdShare: 0.08,
    baseRate: 0.11,
    sizeFactor: 0.45,
    pdFactor: 1.4,
  },
  {
    code: "br",
    weight: 0.12,
    regions: [["Brazil", 1]],
    currency: "BRL",
    usdShare: 0,
    baseRate: 0.13,
    sizeFactor: 0.4,
    pdFactor: 1.6,
  },
  {
    code: "co",
    weight: 0.07,
    regions: [["Colombia", 1]],
    currency: "COP",
    usdShare: 0,
    baseRate: 0.12,
    sizeFactor: 0.35,
    pdFactor: 1.4,
  },
  {
    code: "cl",
    weight: 0.06,
    regions: [["Chile", 1]],
    currency: "CLP",
    usdShare: 0.03,
    baseRate: 0.07,
    sizeFactor: 0.6,
    pdFactor: 1.1,
  },
  {
    code: "pe",
    weight: 0.05,
    regions: [["Peru", 1]],
    currency: "PEN",
    usdShare: 0.25,
    baseRate: 0.09,
    sizeFactor: 0.35,
    pdFactor: 1.3,
  },
];

/** Base annual rate of USD lending in the Latin American countries. */
export const USD_BASE_RATE = 0.07;

/** All regions in order (country by country), for the region dictionary. */
export const REGIONS: readonly string[] = COUNTRIES.flatMap((c) =>
  c.regions.map(([name]) => name)
);

/** Currencies of the book; the same keys as config/fx_rates.yaml. */
export const CURRENCIES = [
  "EUR",
  "USD",
  "MXN",
  "BRL",
  "COP",
  "CLP",
  "PEN",
] as const;

/**
 * EUR per one unit of each currency, equal to config/fx_rates.yaml. Used only
 * to turn EUR-equivalent draws into local amounts of plausible size.
 */
export const REFERENCE_FX: Record<(typeof CURRENCIES)[number], number> = {
  EUR: 1.0,
  USD: 0.92,
  MXN: 0.051,
  BRL: 0.17,
  COP: 0.00023,
  CLP: 0.00098,
  PEN: 0.245,
};

/**
 * Quarterly volatility of each currency against the EUR (standard
 * deviation of the log change over a quarter) for the FX tables the
 * generator writes beside later snapshots: about 5-11% a year, the order of
 * the historical volatility of these currencies against the euro, the
 * Andean and dollar-linked ones calmer than the Brazilian real.
 */
export const FX_QUARTERLY_VOLATILITY: Record<
  (typeof CURRENCIES)[number],
  number
> = {
  EUR: 0,
  USD: 0.03,
  MXN: 0.045,
  BRL: 0.055,
  COP: 0.045,
  CLP: 0.04,
  PEN: 0.025,
};

/** Currencies without minor units in practice: amounts are whole numbers. */
export const WHOLE_UNIT_CURRENCIES: ReadonlySet<string> = new Set(["CLP"]);

/**
 * Latent credit state dynamics, per quarter. State 1 performing, 2
 * significant increase in credit risk, 3 credit-impaired (IFRS 9 §5.5.3,
 * Appendix A). Probabilities that depend on risk are `base + slope * pd0`,
 * `pd0` the origination 12-month PD, so riskier facilities deteriorate more.
 */
export const DYNAMICS = {
  /** Initial book: P(state 3) and P(state 2) as base + slope * pd0. */
  initialImpaired: { base: 0.006, slope: 0.75, max: 0.4 },
  initialSicr: { base: 0.05, slope: 1.9, max: 0.5 },
  /** 1 -> 2 and 1 -> 3 per quarter. */
  toSicr: { base: 0.016, slope: 0.6 },
  toDefaultFromPerforming: { base: 0, slope: 0.1 },
  /** 2 -> 3 and 2 -> 1 (cure) per quarter. */
  toDefaultFromSicr: { base: 0.02, slope: 0.55 },
  cureFromSicr: 0.22,
  /** 3 -> 2 (cure into a forborne, still significantly risky state). */
  cureFromDefault: 0.05,
  /** Quarters in default before write-off is possible, and the cap. */
  minQuartersBeforeWriteOff: 2,
  maxQuartersInDefault: 12,
  /** Share of the balance recovered before a write-off (rest written off). */
  recoveryAtWriteOff: [0.0, 0.4] as [number, number],
  /** New facilities originated per quarter, as a share of the batch's initial size. */
  originationRate: 0.055,
  /** Months a defaulted facility's maturity is extended when it would pass. */
  workoutExtensionMonths: 12,
} as const;

/**
 * Why a state-2 facility is in state 2, so the observable columns show a
 * stage-2 trigger of methodology §3 consistently from quarter to quarter.
 */
export const SICR_TRIGGER = {
  pd: 1,
  dpd: 2,
  watchlist: 3,
  forborne: 4,
} as const;

/** Trigger mix on entering state 2 (PD test, DPD > 30, watchlist, forborne). */
export const SICR_TRIGGER_WEIGHTS = [0.55, 0.2, 0.15, 0.1];

/** The `employment_type` values, in code order. */
export const EMPLOYMENT_TYPES = [
  "salaried",
  "public_sector",
  "self_employed",
  "temporary",
  "retired",
] as const;

/**
 * Borrower characteristics and the structural model that ties them to the
 * default process (docs/generator.md, "Borrower characteristics"): each
 * facility's default propensity, the log-odds of its origination PD
 * `η = ln(pd0 / (1 - pd0))` (the latent risk its current PD drifts around
 * and its quarterly transitions rise with), is
 *
 *   η = intercept + creditScore·credit_score + debtToIncome·debt_to_income
 *       + employment[employment_type] + ltv·ltv (0 when unsecured) + ε,
 *
 * with `E[ε | characteristics] = 0` and ε of standard deviation about
 * 0.2 (`NOISE_SD` of `characteristics.ts`; a little more for high PDs). `months_on_book` and `rating`
 * have no term: the propensity is fixed at origination.
 */
export const CHARACTERISTICS = {
  /** The true coefficients of the structural model (log-odds). */
  model: {
    intercept: 6.8,
    /** Per point of credit_score: 40 points fewer double the odds, about. */
    creditScore: -0.0175,
    /** Per unit of debt_to_income (0.10 more: +0.2). */
    debtToIncome: 2.0,
    /** Per employment type; `salaried` is the reference. */
    employment: {
      salaried: 0,
      public_sector: -0.35,
      self_employed: 0.25,
      temporary: 0.45,
      retired: -0.15,
    } as Record<(typeof EMPLOYMENT_TYPES)[number], number>,
    /** Per unit of ltv (loan-to-value at origination; 0.10 more: +0.1). */
    ltv: 1.0,
  },
  /**
   * ρ: the share (as a correlation) of the origination PD's lognormal
   * jitter that the characteristics explain; the rest, `0.25·√(1 - ρ²)`
   * on the log scale, is the idiosyncratic ε.
   */
  systematicShare: 0.6,
  /** The log-odds the characteristic draws are centred on: a PD of 2%. */
  riskCentre: Math.log(0.02 / 0.98),
  /**
   * debt_to_income = mean + slope·(S - riskCentre) + sd·N(0,1), clipped to
   * [min, max], rounded to 4 decimals; S the systematic propensity.
   */
  debtToIncome: { mean: 0.3, slope: 0.04, sd: 0.1, min: 0.02, max: 0.95 },
  /**
   * employment_type drawn with weight `retail[k]·exp(tilt·β_k·(S -
   * riskCentre))` (β_k its coefficient), so riskier borrowers are more often
   * in the riskier types; SME borrowers are `self_employed`.
   */
  employment: {
    retail: [0.55, 0.15, 0.12, 0.1, 0.08],
    sme: [0, 0, 1, 0, 0],
    tilt: 1,
  },
  /** Whole points; a draw outside is drawn again (its DTI and employment). */
  creditScoreRange: [300, 850] as [number, number],
} as const;

/**
 * The internal rating's master scale: a grade per band of
 * `pd_12m_current`, each up to `upper_pd` inclusive, doubling from 0.05% to
 * 25.6% (the bands of `DEFAULT_MASTER_SCALE` in
 * `lib/pd_model/master_scale.ts`), `R11` up to any PD below 1, and `D`
 * default (a PD of 1). The same shape as `MasterScaleGrade` of
 * `lib/pd_model/types.ts`.
 */
export const RATING_SCALE: readonly { grade: string; upper_pd: number }[] = [
  { grade: "R01", upper_pd: 0.0005 },
  { grade: "R02", upper_pd: 0.001 },
  { grade: "R03", upper_pd: 0.002 },
  { grade: "R04", upper_pd: 0.004 },
  { grade: "R05", upper_pd: 0.008 },
  { grade: "R06", upper_pd: 0.016 },
  { grade: "R07", upper_pd: 0.032 },
  { grade: "R08", upper_pd: 0.064 },
  { grade: "R09", upper_pd: 0.128 },
  { grade: "R10", upper_pd: 0.256 },
  { grade: "R11", upper_pd: 0.999999 },
  { grade: "D", upper_pd: 1 },
];

/**
 * The origination PD: `BAND_PD[band]·pdFactor·exp(jitter·N(0,1))`, clipped
 * to `[min, max]`.
 */
export const ORIGINATION_PD = { jitter: 0.25, min: 0.0003, max: 0.45 } as const;
