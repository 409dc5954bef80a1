/**
 * IRB capital (docs/capital.md): the Basel risk-weight functions (BCBS
 * CRE31) and their application to a run's loan results with the rules'
 * `capital:` section, with the comparison of regulatory expected loss and
 * the IFRS 9 allowance (CRE35).
 *
 * @module
 */
export * from "./irb.ts";
export {
  type CapitalRules,
  type MaturityRule,
  MAX_LGD_ADD_ON,
} from "../capital_rules.ts";
export * from "./run.ts";
