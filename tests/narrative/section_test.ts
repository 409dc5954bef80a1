/**
 * The narrative's section of a page: its text escaped (a model's answer
 * or a product name holding markup shows as text), who wrote it, and
 * after a fallback the reason in a warning.
 *
 * @module
 */
import assert from "node:assert/strict";
import { narrativeSection } from "../../lib/narrative/mod.ts";
import type { Narrative } from "../../lib/narrative/mod.ts";
import { smallSheet } from "./_facts.ts";

const base = (over: Partial<Narrative>): Narrative => ({
  version: 1,
  provider: "vertex",
  model: "gemini-test",
  requested: { provider: "vertex", model: "gemini-test" },
  text: 'First <img src=x onerror="alert(1)"> paragraph.\n\nSecond & last.',
  check: { figures: 0, unknown: [] },
  facts: smallSheet(),
  ...over,
});

Deno.test("narrativeSection() escapes the text, one <p> per paragraph, and names the model", () => {
  const html = narrativeSection(base({})).toString();
  assert.ok(!html.includes("<img"));
  assert.ok(
    html.includes(
      "<p>First &lt;img src=x onerror=&quot;alert(1)&quot;&gt; paragraph.</p><p>Second &amp; last.</p>",
    ),
  );
  assert.match(html, /Written by Gemini model gemini-test on Vertex AI/);
  assert.ok(!html.includes("Warning:"));
});

Deno.test("narrativeSection() says why the template's text is shown after a fallback", () => {
  const html = narrativeSection(base({
    provider: "template",
    model: undefined,
    check: undefined,
    text: "At 2025-12-31 ...",
    fallback_reason: "Vertex AI model gemini-test: HTTP status 429: quota",
  })).toString();
  assert.match(
    html,
    /Warning: Vertex AI model gemini-test: HTTP status 429: quota; the template&#39;s text is shown instead/,
  );
  assert.match(html, /Written by the template \(offline, deterministic\)/);
});
