/**
 * The IFRS Accounting Taxonomy (`ifrs-full`) element each figure of the
 * IFRS 7 credit-risk tables reports (§35M gross carrying amount and loss
 * allowance by grade and stage, §35N / IG20D coverage, §35M(b)(ii)
 * credit-impaired assets, §35K(c) collateral, §35L write-offs, B8E
 * provision), with the axis members that place it, so a filing pipeline
 * needs no second mapping (docs/disclosures.md).
 *
 * Every `ifrs-full` name used here is either listed in
 * {@link CONFIRMED_NAMES} with the published page it was found on, or is
 * unconfirmed: a tag is `verified` only when its element and every axis and
 * member it names are confirmed, and `unconfirmed` lists the names that are
 * not. The unconfirmed names (the stage members, the credit-impairment
 * axis, the B8E provision, the §35K(c) and §35L elements) follow the
 * taxonomy's naming pattern and must be checked against the IFRS Taxonomy
 * Illustrated before a filing relies on them.
 *
 * @module
 */

/** The taxonomy element of one figure. */
export interface TaxonomyTag {
  /** The line item (`ifrs-full:...`). */
  element: string;
  /** Axis members that place the figure, `axis=member`. */
  members: string[];
  /** The IFRS 7 paragraph the figure answers. */
  paragraph: string;
  /**
   * Whether the element and every axis and member in `members` were found
   * on a published taxonomy page ({@link CONFIRMED_NAMES}).
   */
  verified: boolean;
  /** The names of `element` and `members` not confirmed; empty when verified. */
  unconfirmed: string[];
}

const FRACTAL = "https://fractalexperience.com/xbrl/web/?h=";

/**
 * The `ifrs-full` names confirmed against a published taxonomy page, each
 * with where it was found (a taxonomy browser page of the IFRS or ESMA/ESEF
 * taxonomy, or an SEC filing's XBRL viewer).
 */
export const CONFIRMED_NAMES: Readonly<Record<string, string>> = Object
  .freeze({
    // Line item, IFRS 7 §8 / IAS 32 11; ifrs-full 2020-03-16, monetary,
    // instant, debit.
    "ifrs-full:FinancialAssets":
      `${FRACTAL}d18d7082bfa968ef0ccd8deedc1d5808df99daa8`,
    // IFRS 7 §35N, IG20D; percentItemType, instant.
    "ifrs-full:ExpectedCreditLossRate":
      "http://xbrlsite.azurewebsites.net/2020/reporting-scheme/ifrs/base-taxonomy/report-element-detail/2359.html",
    // The carrying-amount axis and its members: definition linkbase of
    // [823180] (IFRS 2022 and ESEF), CarryingAmountMember > Gross carrying
    // amount / Accumulated depreciation, amortisation and impairment >
    // Accumulated impairment.
    "ifrs-full:CarryingAmountAccumulatedDepreciationAmortisationAndImpairmentAndGrossCarryingAmountAxis":
      `${FRACTAL}5d7a3751558cb4e396dd3172b69662e2c68a37fa`,
    "ifrs-full:GrossCarryingAmountMember":
      `${FRACTAL}eb26cf537b96466b4b7daa7282b45cff765a4646`,
    "ifrs-full:AccumulatedImpairmentMember":
      `${FRACTAL}eb26cf537b96466b4b7daa7282b45cff765a4646`,
    // [822390] Disclosure of internal credit exposures: table with
    // InternalCreditGradesAxis, domain InternalCreditGradesMember.
    "ifrs-full:InternalCreditGradesAxis":
      `${FRACTAL}1669ac97830a6c5f642edc9adaa9db89cddf7578`,
    "ifrs-full:InternalCreditGradesMember":
      `${FRACTAL}1669ac97830a6c5f642edc9adaa9db89cddf7578`,
  });

/** The names of an element and its `axis=member` pairs. */
function names(element: string, members: string[]): string[] {
  return [
    ...(element === "" ? [] : [element]),
    ...members.flatMap((m) => m.split("|")).flatMap((m) => m.split("=")),
  ];
}

/** The names among `element` and `members` that are not confirmed. */
export function unconfirmedNames(element: string, members: string[]): string[] {
  return [...new Set(names(element, members))].filter((n) =>
    !Object.hasOwn(CONFIRMED_NAMES, n)
  );
}

function tag(
  element: string,
  members: string[],
  paragraph: string,
): TaxonomyTag {
  const unconfirmed = unconfirmedNames(element, members);
  return {
    element,
    members,
    paragraph,
    verified: unconfirmed.length === 0,
    unconfirmed,
  };
}

const GROSS = "ifrs-full:GrossCarryingAmountMember";
const ALLOWANCE = "ifrs-full:AccumulatedImpairmentMember";
const CARRYING_AXIS =
  "ifrs-full:CarryingAmountAccumulatedDepreciationAmortisationAndImpairmentAndGrossCarryingAmountAxis";
// Was `CreditRiskExposureAxis`, which no taxonomy page confirmed; the
// published table of internal credit exposures uses this axis.
const GRADES =
  "ifrs-full:InternalCreditGradesAxis=ifrs-full:InternalCreditGradesMember";

/**
 * The stage axis member of each §35M column. None of these names is
 * confirmed ({@link unconfirmedNames}); the CSV marks a stage line
 * unverified.
 */
export const COLUMN_MEMBERS: Record<string, string> = {
  stage_1:
    "ifrs-full:MeasurementOfExpectedCreditLossesAxis=ifrs-full:TwelvemonthExpectedCreditLossesMember",
  stage_2:
    "ifrs-full:MeasurementOfExpectedCreditLossesAxis=ifrs-full:LifetimeExpectedCreditLossesMember|ifrs-full:CreditImpairmentOfFinancialInstrumentsAxis=ifrs-full:FinancialInstrumentsNotCreditimpairedMember",
  stage_3:
    "ifrs-full:MeasurementOfExpectedCreditLossesAxis=ifrs-full:LifetimeExpectedCreditLossesMember|ifrs-full:CreditImpairmentOfFinancialInstrumentsAxis=ifrs-full:FinancialInstrumentsCreditimpairedMember",
  simplified:
    "ifrs-full:MeasurementOfExpectedCreditLossesAxis=ifrs-full:LifetimeExpectedCreditLossesMember|ifrs-full:ImpairmentOfFinancialInstrumentsAxis=ifrs-full:SimplifiedApproachForTradeReceivablesContractAssetsAndLeaseReceivablesMember",
};

/** The element of each figure, by the key the CSV and summary use. */
export const TAXONOMY: Readonly<Record<string, TaxonomyTag>> = Object.freeze({
  gross_carrying_amount: tag(
    "ifrs-full:FinancialAssets",
    [`${CARRYING_AXIS}=${GROSS}`, GRADES],
    "IFRS 7 §35M",
  ),
  loss_allowance: tag(
    "ifrs-full:FinancialAssets",
    [`${CARRYING_AXIS}=${ALLOWANCE}`, GRADES],
    "IFRS 7 §35M, B8E",
  ),
  provision: tag(
    "ifrs-full:ProvisionsForExpectedCreditLossesOnLoanCommitments",
    [GRADES],
    "IFRS 7 B8E",
  ),
  coverage: tag(
    "ifrs-full:ExpectedCreditLossRate",
    [GRADES],
    "IFRS 7 §35N, IG20D",
  ),
  credit_impaired_gross_carrying_amount: tag(
    "ifrs-full:FinancialAssets",
    [
      `${CARRYING_AXIS}=${GROSS}`,
      "ifrs-full:CreditImpairmentOfFinancialInstrumentsAxis=ifrs-full:FinancialInstrumentsCreditimpairedMember",
    ],
    "IFRS 7 §35M(b)(ii)",
  ),
  // Without the credit-impairment member this figure would carry the same
  // element and members as the total loss allowance.
  credit_impaired_loss_allowance: tag(
    "ifrs-full:FinancialAssets",
    [
      `${CARRYING_AXIS}=${ALLOWANCE}`,
      "ifrs-full:CreditImpairmentOfFinancialInstrumentsAxis=ifrs-full:FinancialInstrumentsCreditimpairedMember",
    ],
    "IFRS 7 §35M(b)(ii), B8E",
  ),
  credit_impaired_collateral: tag(
    "ifrs-full:CollateralHeldAsSecurityAndOtherCreditEnhancementsForCreditimpairedFinancialAssets",
    [],
    "IFRS 7 §35K(c)",
  ),
  written_off_enforcement: tag(
    "ifrs-full:ContractualAmountOutstandingOnFinancialAssetsWrittenOffThatAreStillSubjectToEnforcementActivity",
    [],
    "IFRS 7 §35L",
  ),
  grade: tag(
    "ifrs-full:InternalCreditGradesMember",
    [],
    "IFRS 7 §35M, IG20C",
  ),
});
