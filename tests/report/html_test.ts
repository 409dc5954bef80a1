/**
 * The page helpers of `lib/report/html.ts`: headline cards size their value
 * to fit one line of the card.
 *
 * @module
 */
import assert from "node:assert/strict";
import { cards } from "../../lib/report/html.ts";

/** The font-size expression of each card value, in order. */
const fontSizes = (html: string) =>
  [...html.matchAll(/class="card-value" style="font-size:([^"]+)"/g)].map((
    m,
  ) => m[1]);

Deno.test("cards() scales a long value down to fit its card and caps short ones at 22px", () => {
  const html = cards([
    { label: "Facilities", value: "5,000" },
    { label: "EAD (EUR)", value: "203,456,789,012.34" },
  ]);
  // 0.72em per character: 5 characters -> 3.60em, 18 -> 12.96em of the
  // card's width (100cqi), between 12px and 22px.
  assert.deepEqual(fontSizes(html), [
    "clamp(12px, calc(100cqi / 3.60), 22px)",
    "clamp(12px, calc(100cqi / 12.96), 22px)",
  ]);
  assert.match(html, />203,456,789,012\.34</);
});
