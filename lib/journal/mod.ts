/**
 * The general-ledger journal of a movement (docs/journal.md): balanced
 * double-entry postings of the loss-allowance movement by entity, product,
 * stage and currency, each line naming its paragraph (IFRS 9 §5.5.8,
 * §5.4.4, IAS 21 §28, …), the accounts file that maps them to codes, and
 * the trial-balance check.
 *
 * @module
 */
export {
  accountEntries,
  type GlAccount,
  type GlAccounts,
  type GlAccountsFile,
  parseGlAccounts,
  readGlAccounts,
} from "./accounts.ts";
export {
  buildJournal,
  type Journal,
  JOURNAL_LINES,
  JOURNAL_REFERENCES,
  JOURNAL_TOLERANCE,
  JournalCheckError,
  type JournalLine,
  type JournalLineKey,
  type JournalOptions,
  type TrialBalance,
  trialBalance,
  type TrialBalanceCheck,
} from "./journal.ts";
export {
  checkMovementAddsUp,
  type FacilityEntities,
  movementEntities,
  type MovementFolder,
  readMovementFolder,
} from "./read.ts";
export {
  JOURNAL_COLUMNS,
  JOURNAL_FILES,
  journalCsv,
  journalFrame,
  trialBalanceText,
  writeJournal,
} from "./write.ts";
