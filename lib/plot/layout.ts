/**
 * Room and ticks for charts that are read by people: margins wide enough
 * for the longest band label (a region called "Comunidad Foral de
 * Navarra", a loan id), integer ticks on count axes (no "0.5 rows"), and
 * log-axis ticks that cover every point drawn.
 *
 * Plot draws server-side, where no font can be measured, so label widths
 * are estimated from the characters with generous per-character widths of
 * common sans-serif faces (DejaVu Sans, the widest of them, is the
 * reference); the browser test of the pages checks in Chromium that no
 * label leaves its chart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bandAxisMargin, countTicks, logTicks } from "./layout.ts";
 *
 * assert.deepEqual(countTicks(3), [0, 1, 2, 3]);
 * assert.deepEqual(countTicks(1200), [0, 500, 1000, 1500]);
 * assert.deepEqual(countTicks(0), [0, 1]);
 * // Coverage from 0.3% to 18%: ticks from 0.2% to 20%.
 * assert.deepEqual(logTicks(0.003, 0.18).domain, [0.002, 0.2]);
 * assert.ok(bandAxisMargin(["Comunidad Foral de Navarra"]) > 150);
 * ```
 *
 * @module
 */

/** Plot's default font size for tick labels and text marks, in px. */
const FONT_SIZE = 10;

/**
 * Width of one character in em: narrow punctuation and letters, digits
 * and lower case, upper case and wide letters (DejaVu Sans: `i` 0.28, `a`
 * 0.61, `0` 0.64, `N` 0.75, `M` 0.86, `W` 0.99).
 */
function charWidth(ch: string): number {
  if (/[ .,:;·'|!iljtfr()\[\]-]/.test(ch)) return 0.36;
  if (/[MWmw@%]/.test(ch)) return 1.0;
  if (/[A-Z_&]/.test(ch)) return 0.78;
  return 0.66;
}

/** The estimated width in px of `text` drawn at `fontSize` px. */
export function labelWidth(text: string, fontSize = FONT_SIZE): number {
  let em = 0;
  for (const ch of text) em += charWidth(ch);
  return em * fontSize;
}

/**
 * The left margin a y axis of band labels needs: Plot ends a tick label
 * 9 px left of the axis, and a few px are kept at the chart's edge.
 */
export function bandAxisMargin(
  labels: readonly string[],
  minimum = 40,
): number {
  const widest = Math.max(0, ...labels.map((l) => labelWidth(l)));
  return Math.max(minimum, Math.ceil(widest + 9 + 6));
}

/**
 * The room to the right of horizontal bars labelled at their end
 * (`dx` px after the bar), for the longest label.
 */
export function endLabelMargin(
  labels: readonly string[],
  dx = 6,
  minimum = 20,
): number {
  const widest = Math.max(0, ...labels.map((l) => labelWidth(l)));
  return Math.max(minimum, Math.ceil(widest + dx + 6));
}

/**
 * Ticks of an axis of counts from 0 to `max`: whole steps of 1, 2 or 5
 * times a power of ten, at most about `target` of them, up to the first
 * tick at or above `max` (give the axis the domain `[0, last tick]`, so
 * that it ends on a label).
 */
export function countTicks(max: number, target = 5): number[] {
  const raw = Math.max(1, max / target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks = [0];
  // Two ticks at least, so that an axis of zeros still has a scale.
  while (ticks.length < 2 || ticks.at(-1)! < max) {
    ticks.push(ticks.at(-1)! + step);
  }
  return ticks;
}

/** The 1-2-5 sequence of values on a log axis, from below `lo` to above `hi`. */
function oneTwoFive(lo: number, hi: number): number[] {
  const values: number[] = [];
  for (
    let e = Math.floor(Math.log10(lo)) - 1;
    e <= Math.ceil(Math.log10(hi));
    e++
  ) {
    // Rounded so that 2 × 10^-3 is 0.002, not 0.0020000000000000005.
    for (const m of [1, 2, 5]) {
      values.push(Number((m * 10 ** e).toPrecision(1)));
    }
  }
  return values;
}

/**
 * The domain and ticks of a log axis holding values from `min` to `max`
 * (both > 0): from the 1-2-5 value at or below `min` to the one at or
 * above `max`, every 1-2-5 value in between a tick, so each point drawn
 * lies between two labelled ticks.
 */
export function logTicks(
  min: number,
  max: number,
): { domain: [number, number]; ticks: number[] } {
  const values = oneTwoFive(min, max);
  const lo = values.filter((v) => v <= min * (1 + 1e-9)).at(-1)!;
  const hi = values.find((v) => v >= max * (1 - 1e-9))!;
  return {
    domain: [lo, hi],
    ticks: values.filter((v) => v >= lo && v <= hi),
  };
}
