/**
 * `deno task journal --movement DIR [--accounts PATH] --out DIR`: the
 * general-ledger journal of a movement (docs/journal.md). Reads the
 * movement folder written by `deno task movement` and, for each
 * facility's entity (legal entity, else region), the loan results of its
 * two runs; writes `journal.csv` and `journal.parquet` as the folder DIR,
 * whole or not at all, and prints the trial balance.
 *
 * Exit codes (lib/errors.ts): 0 done; 1 the trial balance fails, or
 * movement.json does not add up, is not the facilities' movement or leaves
 * more than rounding to post (nothing written); 2 a usage error or a
 * refused --out (checked before anything is read), a missing or broken
 * movement folder (a figure not a number, a header not its runs'; a
 * folder in object storage is not read), run folder or accounts file (the
 * message names it and the key); 3 the outputs cannot be written; 4 another live process
 * is writing DIR.
 *
 * @module
 */
import { required, TaskCommand } from "./_args.ts";
import { checkOutputFolder } from "../lib/run_folder/mod.ts";
import {
  buildJournal,
  JOURNAL_FILES,
  movementEntities,
  readGlAccounts,
  readMovementFolder,
  trialBalanceText,
  UserError,
  writeJournal,
} from "../lib/mod.ts";

const DEFAULT_ACCOUNTS = new URL("../config/gl_accounts.yaml", import.meta.url)
  .pathname;

export const command = new TaskCommand({
  command: "deno task journal",
  synopsis: "--movement DIR [--accounts PATH] --out DIR",
  flags: `  --movement DIR   a movement folder (the --out of deno task movement)
  --accounts PATH  general-ledger accounts (default config/gl_accounts.yaml,
                   illustrative codes)
  --out DIR        folder for journal.csv and journal.parquet`,
  options: {
    movement: { type: "string" },
    accounts: { type: "string" },
    out: { type: "string" },
  },
  required: ["movement", "out"],
});

/** Runs `deno task journal` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { movement: dir, out } = required(values, "movement", "out");
    // Where the outputs go is checked before anything is read.
    await checkOutputFolder(out, Object.values(JOURNAL_FILES), {
      inputs: [dir],
    });
    const accounts = await readGlAccounts(values.accounts ?? DEFAULT_ACCOUNTS);
    const folder = await readMovementFolder(dir);
    const { entities, source } = await movementEntities(folder.movement);
    const journal = await buildJournal(
      folder.movement,
      folder.facilities,
      accounts,
      { entities, entitySource: source },
    );
    console.log(trialBalanceText(journal));
    if (!journal.trial_balance.holds) {
      throw new UserError(
        "check",
        `The journal of ${dir} does not pass its trial balance (above); nothing written`,
      );
    }
    const files = await writeJournal(journal, out, {
      inputs: [dir, folder.movement.from.dir, folder.movement.to.dir],
    });
    console.log(files.csv);
    console.log(files.parquet);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
