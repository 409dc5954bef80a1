/**
 * The IFRS Accounting Taxonomy tags of the IFRS 7 tables
 * (lib/disclosure/taxonomy.ts). The confirmed names below are typed here
 * from the published pages they were found on (docs/disclosures.md,
 * "Taxonomy elements"), not copied from the code: a misspelt name in the
 * code fails the test.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  COLUMN_MEMBERS,
  CONFIRMED_NAMES,
  ifrs7Csv,
  ifrs7Tables,
  TAXONOMY,
  unconfirmedNames,
} from "../../lib/disclosure/mod.ts";

/** Names seen on published taxonomy pages, with the page. */
const PUBLISHED = {
  // fractalexperience.com, ifrs-full 2020-03-16, element FinancialAssets.
  financialAssets: "ifrs-full:FinancialAssets",
  // xbrlsite.azurewebsites.net IFRS base taxonomy, element 2359.
  eclRate: "ifrs-full:ExpectedCreditLossRate",
  // fractalexperience.com, [823180] definition linkbase (IFRS 2022, ESEF).
  carryingAxis:
    "ifrs-full:CarryingAmountAccumulatedDepreciationAmortisationAndImpairmentAndGrossCarryingAmountAxis",
  gross: "ifrs-full:GrossCarryingAmountMember",
  impairment: "ifrs-full:AccumulatedImpairmentMember",
  // fractalexperience.com, [822390] internal credit exposures table.
  gradesAxis: "ifrs-full:InternalCreditGradesAxis",
  grades: "ifrs-full:InternalCreditGradesMember",
};

Deno.test("the confirmed names are spelt as on the published taxonomy pages, each with its source", () => {
  assert.deepEqual(
    Object.keys(CONFIRMED_NAMES).sort(),
    Object.values(PUBLISHED).sort(),
  );
  for (const [name, source] of Object.entries(CONFIRMED_NAMES)) {
    assert.match(source, /^https?:\/\//, `${name} has a source`);
  }
});

Deno.test("the §35M, §35N and grade tags use only confirmed names and are verified", () => {
  const grades = `${PUBLISHED.gradesAxis}=${PUBLISHED.grades}`;
  assert.deepEqual(TAXONOMY.gross_carrying_amount, {
    element: PUBLISHED.financialAssets,
    members: [`${PUBLISHED.carryingAxis}=${PUBLISHED.gross}`, grades],
    paragraph: "IFRS 7 §35M",
    verified: true,
    unconfirmed: [],
  });
  assert.deepEqual(TAXONOMY.loss_allowance, {
    element: PUBLISHED.financialAssets,
    members: [`${PUBLISHED.carryingAxis}=${PUBLISHED.impairment}`, grades],
    paragraph: "IFRS 7 §35M, B8E",
    verified: true,
    unconfirmed: [],
  });
  assert.equal(TAXONOMY.coverage.element, PUBLISHED.eclRate);
  assert.deepEqual(TAXONOMY.coverage.members, [grades]);
  assert.equal(TAXONOMY.coverage.verified, true);
  assert.equal(TAXONOMY.grade.element, PUBLISHED.grades);
  assert.equal(TAXONOMY.grade.verified, true);
});

Deno.test("tags naming an unconfirmed element or member stay unverified and say which names", () => {
  assert.deepEqual(TAXONOMY.provision.unconfirmed, [
    "ifrs-full:ProvisionsForExpectedCreditLossesOnLoanCommitments",
  ]);
  assert.deepEqual(TAXONOMY.credit_impaired_gross_carrying_amount.unconfirmed, [
    "ifrs-full:CreditImpairmentOfFinancialInstrumentsAxis",
    "ifrs-full:FinancialInstrumentsCreditimpairedMember",
  ]);
  assert.deepEqual(TAXONOMY.credit_impaired_loss_allowance.members, [
    `${PUBLISHED.carryingAxis}=${PUBLISHED.impairment}`,
    "ifrs-full:CreditImpairmentOfFinancialInstrumentsAxis=ifrs-full:FinancialInstrumentsCreditimpairedMember",
  ]);
  for (
    const key of [
      "provision",
      "credit_impaired_gross_carrying_amount",
      "credit_impaired_loss_allowance",
      "credit_impaired_collateral",
      "written_off_enforcement",
    ]
  ) {
    assert.equal(TAXONOMY[key].verified, false, key);
    assert.ok(TAXONOMY[key].unconfirmed.length > 0, key);
  }
  // No stage member is confirmed.
  for (const [column, member] of Object.entries(COLUMN_MEMBERS)) {
    assert.ok(unconfirmedNames("", [member]).length > 0, column);
  }
  // Every name of every tag is either confirmed or listed as unconfirmed.
  for (const [key, tag] of Object.entries(TAXONOMY)) {
    const all = [tag.element, ...tag.members.flatMap((m) => m.split("|"))]
      .flatMap((m) => m.split("="));
    for (const name of all) {
      assert.ok(
        Object.hasOwn(CONFIRMED_NAMES, name) || tag.unconfirmed.includes(name),
        `${key}: ${name}`,
      );
    }
  }
});

Deno.test("the CSV marks total lines verified and stage lines (unconfirmed members) unverified", async () => {
  const d = await ifrs7Tables(
    pl.DataFrame({
      loan_id: ["A", "B"],
      currency: ["EUR", "EUR"],
      product: ["sme", "sme"],
      stage: [1, 3],
      rating: ["R03", "R09"],
      ecl: [2, 30],
      gross_carrying_amount: [100, 50],
    }).lazy(),
    { reportingCurrency: "EUR", rates: { EUR: 1 }, simplifiedProducts: [] },
  );
  const csv = ifrs7Csv(d, { runId: "t", reportingDate: "2025-12-31" });
  const [head, ...rows] = csv.trim().split("\n").map((l) => l.split(","));
  // `paragraph` may hold a quoted comma: `element_verified` is read as the
  // last field, the others precede it.
  const col = (name: string) => head.indexOf(name);
  const pick = (grade: string, column: string, measure: string) => {
    const r = rows.filter((r) =>
      r[col("table")] === "35M" && r[col("grade")] === grade &&
      r[col("column")] === column && r[col("measure")] === measure
    );
    assert.equal(r.length, 1, `${grade} ${column} ${measure}`);
    return r[0];
  };
  const total = pick("total", "total", "gross_carrying_amount");
  assert.equal(Number(total[col("amount")]), 150);
  assert.equal(total[col("ifrs_element")], PUBLISHED.financialAssets);
  assert.equal(total.at(-1), "true");
  const allowance = pick("total", "total", "loss_allowance");
  assert.equal(Number(allowance[col("amount")]), 32);
  assert.equal(allowance.at(-1), "true");
  const stage1 = pick("R03", "stage_1", "gross_carrying_amount");
  assert.equal(Number(stage1[col("amount")]), 100);
  assert.equal(stage1[col("ifrs_element")], PUBLISHED.financialAssets);
  assert.equal(stage1.at(-1), "false");
  // The credit-impaired allowance is not tagged as the total allowance.
  const ci = rows.filter((r) =>
    r[col("table")] === "35M(b)(ii)" && r[col("measure")] === "loss_allowance"
  );
  assert.equal(ci.length, 1);
  assert.equal(Number(ci[0][col("amount")]), 30);
  assert.match(ci[0].join(","), /FinancialInstrumentsCreditimpairedMember/);
  assert.equal(ci[0].at(-1), "false");
});
