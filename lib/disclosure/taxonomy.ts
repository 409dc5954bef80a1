/**
 * The IFRS Accounting Taxonomy (`ifrs-full`) element each figure of the
 * IFRS 7 credit-risk tables reports, with the axis members that place it,
 * so a filing pipeline needs no second mapping (docs/disclosures.md).
 *
 * `verified` says whether the name was checked against a published
 * taxonomy page while this was written: `ifrs-full:ExpectedCreditLossRate`
 * (IFRS 7 §35N, IG20D) was, and the label `Internal credit grades
 * [member]` (its element name inferred from the label); the other names are the taxonomy's naming pattern as remembered
 * and must be checked against the IFRS Taxonomy Illustrated before a
 * filing relies on them.
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
  /** Whether the element name was checked against a published taxonomy page. */
  verified: boolean;
}

const GROSS = "ifrs-full:GrossCarryingAmountMember";
const ALLOWANCE = "ifrs-full:AccumulatedImpairmentMember";
const CARRYING_AXIS =
  "ifrs-full:CarryingAmountAccumulatedDepreciationAmortisationAndImpairmentAndGrossCarryingAmountAxis";
const GRADES =
  "ifrs-full:CreditRiskExposureAxis=ifrs-full:InternalCreditGradesMember";

/** The stage axis member of each §35M column. */
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
  gross_carrying_amount: {
    element: "ifrs-full:FinancialAssets",
    members: [`${CARRYING_AXIS}=${GROSS}`, GRADES],
    paragraph: "IFRS 7 §35M",
    verified: false,
  },
  loss_allowance: {
    element: "ifrs-full:FinancialAssets",
    members: [`${CARRYING_AXIS}=${ALLOWANCE}`, GRADES],
    paragraph: "IFRS 7 §35M, B8E",
    verified: false,
  },
  provision: {
    element: "ifrs-full:ProvisionsForExpectedCreditLossesOnLoanCommitments",
    members: [GRADES],
    paragraph: "IFRS 7 B8E",
    verified: false,
  },
  coverage: {
    element: "ifrs-full:ExpectedCreditLossRate",
    members: [GRADES],
    paragraph: "IFRS 7 §35N, IG20D",
    verified: true,
  },
  credit_impaired_gross_carrying_amount: {
    element: "ifrs-full:FinancialAssets",
    members: [
      `${CARRYING_AXIS}=${GROSS}`,
      "ifrs-full:CreditImpairmentOfFinancialInstrumentsAxis=ifrs-full:FinancialInstrumentsCreditimpairedMember",
    ],
    paragraph: "IFRS 7 §35M(b)(ii)",
    verified: false,
  },
  credit_impaired_collateral: {
    element:
      "ifrs-full:CollateralHeldAsSecurityAndOtherCreditEnhancementsForCreditimpairedFinancialAssets",
    members: [],
    paragraph: "IFRS 7 §35K(c)",
    verified: false,
  },
  written_off_enforcement: {
    element:
      "ifrs-full:ContractualAmountOutstandingOnFinancialAssetsWrittenOffThatAreStillSubjectToEnforcementActivity",
    members: [],
    paragraph: "IFRS 7 §35L",
    verified: false,
  },
  grade: {
    element: "ifrs-full:InternalCreditGradesMember",
    members: [],
    paragraph: "IFRS 7 §35M, IG20C",
    // The label "Internal credit grades [member]" was seen on a taxonomy
    // page; the element name is inferred from it.
    verified: false,
  },
});
