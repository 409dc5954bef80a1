/**
 * Notebook 09_disclosures executed headless on a 2,000-loan book into a
 * scratch folder of its own (IFRS9_DISCLOSURES_NOTEBOOK_SCRATCH): it runs
 * without an error and renders every output and chart in Chromium, and
 * what it shows is what it wrote. The journal it wrote is re-checked here
 * from `journal.csv` alone, in integer cents: every entry balances, debits
 * equal credits, and each allowance account's net credit equals the
 * movement's closing minus opening allowance of its column in
 * `movement.json` within a cent (docs/journal.md "To the cent"). The
 * capital figures and the CRE35 verdict shown are those of the later run's
 * `summary.json`, the verdict chosen from its numbers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pl from "nodejs-polars";
import {
  executeNotebook,
  openPageChecker,
  readNotebook,
} from "../../lib/notebook/mod.ts";
import { formatAmount, formatCount } from "../../lib/mod.ts";
import { codeOf, unformattedCells } from "./_tutorial.ts";

const NOTEBOOKS = fileURLToPath(new URL("../../notebooks", import.meta.url));
const PATH = join(NOTEBOOKS, "09_disclosures.ipynb");

Deno.test("09_disclosures uses the public face only and runs with a capital: section and the journal API", async () => {
  const code = codeOf(await readNotebook(PATH));
  const imports = [...code.matchAll(/from "(\.[^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(imports)], ["../lib/mod.ts"]);
  assert.match(code, /^capital:$/m);
  for (
    const api of [
      "buildJournal(",
      "computeMovement(",
      "writeMovementOutputs(",
      "readMovementFolder(",
    ]
  ) {
    assert.ok(code.includes(api), api);
  }
});

/** An amount in integer cents (the CSV holds two decimals). */
const cents = (v: number) => Math.round(v * 100);

Deno.test({
  name:
    "09_disclosures shows capital, the CRE35 comparison and a journal that balances entry by entry and ties to movement.json",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "ifrs9-nb-09-" });
    const scratch = await Deno.makeTempDir({ prefix: "ifrs9-nb-09-scratch-" });
    const pages = await openPageChecker();
    try {
      const result = await executeNotebook(PATH, {
        outDir: out,
        env: {
          IFRS9_NOTEBOOK_LOANS: "2000",
          IFRS9_DISCLOSURES_NOTEBOOK_SCRATCH: scratch,
        },
        pages,
      });
      assert.equal(result.status, "ok", result.message ?? "");
      const page = result.page!;
      assert.deepEqual(page.problems, []);
      assert.equal(page.outputsPresent, page.outputsExpected);
      assert.equal(page.chartsDrawn, page.chartsExpected);
      assert.ok(page.chartsExpected >= 2, `charts: ${page.chartsExpected}`);
      const html = await Deno.readTextFile(join(out, "09_disclosures.html"));
      // Tables formatted for people: no raw floats, no JavaScript dates.
      assert.deepEqual(unformattedCells(html), []);

      // The journal, from journal.csv alone.
      const journal = pl.readCSV(
        await Deno.readTextFile(join(scratch, "journal", "journal.csv")),
        { dtypes: { account: pl.Utf8 } },
      ).toRecords() as {
        entry_id: string;
        account: string | number;
        debit: number;
        credit: number;
      }[];
      assert.ok(journal.length > 0);
      const perEntry = new Map<string, number>();
      let debit = 0;
      let credit = 0;
      const netCredit = new Map<string, number>();
      for (const l of journal) {
        const d = cents(l.debit);
        const c = cents(l.credit);
        assert.ok(
          d === 0 || c === 0,
          `${l.entry_id}: a line is a debit or a credit`,
        );
        perEntry.set(l.entry_id, (perEntry.get(l.entry_id) ?? 0) + d - c);
        debit += d;
        credit += c;
        const acc = String(l.account);
        netCredit.set(acc, (netCredit.get(acc) ?? 0) + c - d);
      }
      const unbalanced = [...perEntry].filter(([, v]) => v !== 0);
      assert.deepEqual(unbalanced, []);
      assert.equal(debit, credit);
      // The allowance accounts (config/gl_accounts.yaml) against movement.json.
      const movement = JSON.parse(
        await Deno.readTextFile(join(scratch, "movement", "movement.json")),
      );
      const line = (key: string) =>
        movement.allowance.lines.find((l: { key: string }) => l.key === key)
          .by_stage as Record<string, number>;
      const [opening, closing] = [line("opening"), line("closing")];
      const ACCOUNTS = {
        "1491": "1",
        "1492": "2",
        "1493": "3",
        "1494": "simplified",
      };
      let totalChange = 0;
      let totalPosted = 0;
      for (const [account, column] of Object.entries(ACCOUNTS)) {
        const change = closing[column] - opening[column];
        const posted = netCredit.get(account) ?? 0;
        assert.ok(
          Math.abs(posted - change * 100) <= 1 + 1e-6,
          `allowance ${account}: journal ${posted / 100}, movement ${change}`,
        );
        totalChange += change;
        totalPosted += posted;
      }
      assert.ok(Math.abs(totalPosted - totalChange * 100) <= 0.5 + 1e-6);
      // The page shows the same journal.
      assert.ok(
        html.includes(`${formatCount(perEntry.size)} entries, each balanced`),
      );
      assert.ok(html.includes(formatAmount(debit / 100)), "total debits shown");

      // Capital and the CRE35 verdict, from the later run's summary.json.
      const summary = JSON.parse(
        await Deno.readTextFile(
          join(scratch, "runs", "2025-12-31", "summary.json"),
        ),
      );
      const cap = summary.capital;
      assert.ok(cap, "the run has a capital section");
      for (const v of [cap.totals.rwa, cap.totals.capital, cap.totals.ead]) {
        assert.ok(html.includes(formatAmount(v)), `shown: ${formatAmount(v)}`);
      }
      const nd = cap.el_vs_allowance.non_defaulted;
      const shortfall = Math.max(0, nd.regulatory_el - nd.allowance);
      if (shortfall > 0.005) {
        assert.ok(html.includes("regulatory EL exceeds the allowance by"));
        assert.ok(html.includes(formatAmount(shortfall)));
      } else {
        assert.ok(html.includes("allowance exceeds the regulatory EL by"));
        assert.ok(html.includes(formatAmount(nd.allowance - nd.regulatory_el)));
      }
      // One table row per asset class and stage, each class in the chart.
      const classes = new Set(
        cap.by_asset_class_stage.map((g: { asset_class: string }) =>
          g.asset_class
        ),
      );
      assert.ok(classes.size >= 3, `asset classes: ${[...classes]}`);
    } finally {
      await pages.close();
      await Deno.remove(out, { recursive: true });
      await Deno.remove(scratch, { recursive: true });
    }
  },
});
