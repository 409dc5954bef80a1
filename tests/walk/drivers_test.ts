/**
 * The rules of each state of the ECL walk (lib/walk/drivers.ts) and the
 * check that its steps add up (lib/walk/walk.ts): the sections a driver
 * takes from the closing rules, and nothing else; a walk whose steps do
 * not add up is an internal error.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { parseRules, type Rules } from "../../lib/rules.ts";
import { UserError } from "../../lib/errors.ts";
import {
  checkSteps,
  stateRules,
  type Walk,
  WALK_DRIVERS,
  type WalkDriver,
} from "../../lib/walk/mod.ts";

const text = await Deno.readTextFile("config/ifrs9_rules.yaml");
const open = parseRules(text, "open.yaml");
const changed = parse(text);
changed.scenarios[0].weight = 0.4;
changed.scenarios[1].weight = 0.3;
changed.products.credit_card.ccf = 0.55;
changed.overlays = [{ name: "o", filter: {}, multiplier: 1.1, reason: "r" }];
changed.products.extra_product = { repayment: "bullet" };
const close = parseRules(stringify(changed), "close.yaml");
const applied = (...d: WalkDriver[]) => new Set<WalkDriver>(d);
const strip = (r: Rules) => ({ ...r, plugins: undefined, explain: undefined });

Deno.test("stateRules(): nothing applied is the opening rules, everything the closing rules", () => {
  const first = stateRules(open, close, applied());
  assert.deepEqual(first.scenarios, open.scenarios);
  assert.deepEqual(first.overlays, open.overlays);
  // The closing file's extra product is there, changing no facility.
  assert.ok("extra_product" in first.products);
  const last = stateRules(open, close, applied(...WALK_DRIVERS));
  assert.deepEqual(
    JSON.parse(JSON.stringify(strip(last))),
    JSON.parse(JSON.stringify(strip({
      ...close,
      segments: Object.fromEntries(
        Object.entries(close.segments).map(([k, s]) => {
          const { pd_source: _, ...rest } = s;
          return [k, rest];
        }),
      ),
    }))),
  );
});

Deno.test("stateRules(): each driver takes its own sections only", () => {
  const sc = stateRules(open, close, applied("scenarios"));
  assert.deepEqual(sc.scenarios.map((s) => s.weight), [0.4, 0.3, 0.3]);
  assert.deepEqual(sc.overlays, []);
  assert.equal(sc.products.credit_card.ccf, 0.75);
  const ov = stateRules(open, close, applied("overlays"));
  assert.equal(ov.overlays.length, 1);
  assert.deepEqual(ov.scenarios, open.scenarios);
  const ru = stateRules(open, close, applied("rules"));
  assert.equal(ru.products.credit_card.ccf, 0.55);
  assert.deepEqual(ru.scenarios, open.scenarios);
  assert.deepEqual(ru.overlays, []);
});

Deno.test("stateRules(): a segment one file lacks is that file's default, key by key with its driver", () => {
  const doc = parse(text);
  assert.equal(doc.segments.sme_es, undefined);
  doc.segments.default.pd_curve = "flat";
  doc.segments.sme_es = { pd_curve: "shape", pd_shape: [1, 1.5] };
  const withSeg = parseRules(stringify(doc), "with.yaml");
  // Added in the closing file: the opening file's default until pd.
  const before = stateRules(open, withSeg, applied("rules", "lgd"));
  assert.equal(before.segments.sme_es.pd_curve, "flat");
  assert.equal(before.segments.sme_es.pd_shape, undefined);
  const after = stateRules(open, withSeg, applied("pd"));
  assert.equal(after.segments.sme_es.pd_curve, "shape");
  assert.deepEqual(after.segments.sme_es.pd_shape, [1, 1.5]);
  // Removed in the closing file: back to the closing default at pd, even
  // though the base (opening, before `rules`) has the entry.
  const removed = stateRules(withSeg, open, applied("pd"));
  assert.equal(removed.segments.sme_es.pd_curve, "flat");
  assert.equal(removed.segments.sme_es.pd_shape, undefined);
  const kept = stateRules(withSeg, open, applied("rules", "lgd"));
  assert.equal(kept.segments.sme_es.pd_curve, "shape");
});

Deno.test("stateRules() refuses two reporting currencies", () => {
  const other = { ...close, reporting_currency: "USD" };
  assert.throws(() => stateRules(open, other, applied()), /reporting_currency/);
});

Deno.test("checkSteps() fails as an internal error when the steps do not add up, per stage or in total", () => {
  const walk = {
    opening: 100,
    closing: 130,
    opening_by_stage: { "1": 60, "2": 30, "3": 10 },
    closing_by_stage: { "1": 70, "2": 40, "3": 20 },
    steps: [
      { amount: 10, by_stage: { "1": 10, "2": 0, "3": 0 } },
      { amount: 20, by_stage: { "1": 0, "2": 10, "3": 10 } },
    ],
  } as unknown as Walk;
  checkSteps(walk);
  walk.steps[1].amount = 20.01;
  assert.throws(
    () => checkSteps(walk),
    (e: UserError) => e.kind === "internal" && /in total/.test(e.message),
  );
  walk.steps[1].amount = 20;
  walk.steps[1].by_stage["2"] = 9;
  walk.steps[1].by_stage["3"] = 11;
  assert.throws(
    () => checkSteps(walk),
    (e: UserError) => e.kind === "internal" && /stage 2/.test(e.message),
  );
});
