/**
 * Development data drawn from a known logistic model, for the training
 * tests: three characteristics that truly drive the default (a score, a
 * debt-to-income ratio with some missing values, an employment type), an
 * identifier and a date that must be left out, and the 0/1 target.
 *
 * logit P(default) = -3 - 0.02 (credit_score - 650) + 3 (dti - 0.3)
 *                    + {salaried: 0, self_employed: 0.6, retired: 0.3}
 *
 * @module
 */
import pl from "nodejs-polars";
import { Rng } from "../../lib/generate/mod.ts";
import type { DataFrame } from "../../lib/frame.ts";

/** The true coefficients of the model the data are drawn from. */
export const TRUE_MODEL = {
  intercept: -3,
  score: -0.02,
  dti: 3,
  employment: { salaried: 0, self_employed: 0.6, retired: 0.3 } as Record<
    string,
    number
  >,
};

const JOBS = ["salaried", "self_employed", "retired"];

/** The true PD of a row. */
export function truePd(score: number, dti: number, job: string): number {
  const eta = TRUE_MODEL.intercept + TRUE_MODEL.score * (score - 650) +
    TRUE_MODEL.dti * (Number.isNaN(dti) ? 0 : dti - 0.3) +
    TRUE_MODEL.employment[job];
  return 1 / (1 + Math.exp(-eta));
}

/** `n` rows drawn with `seed`, with their true PD in `true_pd` when asked. */
export function devData(
  n: number,
  seed = 1,
  { withTruePd = false } = {},
): DataFrame {
  const rng = new Rng(seed);
  const score: number[] = [], dti: (number | null)[] = [], job: string[] = [];
  const y: number[] = [], pd: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = Math.round(650 + 60 * rng.normal());
    const d = rng.chance(0.05) ? NaN : rng.between(0.05, 0.6);
    const j = JOBS[rng.pick([0.6, 0.85, 1])];
    const p = truePd(s, d, j);
    score.push(s);
    dti.push(Number.isNaN(d) ? null : d);
    job.push(j);
    pd.push(p);
    y.push(rng.uniform() < p ? 1 : 0);
  }
  const df = pl.DataFrame({
    loan_id: Array.from({ length: n }, (_, i) => `L${i + 1}`),
    reporting_date: Array.from({ length: n }, () => "2025-12-31"),
    credit_score: score,
    debt_to_income: dti,
    employment_type: job,
    default_12m: y,
  });
  return withTruePd ? df.withColumn(pl.Series("true_pd", pd)) : df;
}
