/**
 * The Vertex AI provider against a local fake Vertex endpoint (Deno.serve
 * on 127.0.0.1, a free port): the real `@google/genai` client is pointed
 * at it (`httpOptions.baseUrl`) with a fixed bearer token, so nothing
 * reaches Google. Checked: the request (method, model path with project
 * and location, the token in the header and nowhere in the body, the
 * facts in the prompt, the system instruction) and the handling of a good
 * answer, an answer quoting a figure not in the facts, a malformed answer,
 * error statuses 429 and 500, a server that never answers (the call ends
 * at the timeout), a refused connection and missing credentials.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  buildFactSheet,
  explainSettings,
  type Narrative,
  recordedExplain,
  vertexNarrative,
  writeNarrative,
} from "../../lib/narrative/mod.ts";
import type { Manifest } from "../../lib/run_folder/mod.ts";
import { smallSheet, smallSummary } from "./_facts.ts";

const TOKEN = "ya29.test-token-not-a-secret-0123456789";
const API_KEY = "AIza-test-key-0123456789";

/** What the fake endpoint saw of one request. */
interface Seen {
  method: string;
  path: string;
  authorization: string | null;
  apiKey: string | null;
  body: string;
}

type Reply = (req: Request) => Response | Promise<Response>;

/** A fake Vertex endpoint answering each request with `reply`. */
function fakeVertex(reply: Reply) {
  const seen: Seen[] = [];
  const release: (() => void)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      seen.push({
        method: req.method,
        path: url.pathname,
        authorization: req.headers.get("authorization"),
        apiKey: req.headers.get("x-goog-api-key"),
        body: await req.text(),
      });
      return await reply(req);
    },
  );
  return {
    seen,
    baseUrl: `http://127.0.0.1:${server.addr.port}/`,
    /** A reply that never comes (until the test ends). */
    hang: () =>
      new Promise<Response>((resolve) => {
        release.push(() => resolve(new Response("late", { status: 200 })));
      }),
    async close() {
      release.forEach((r) => r());
      await server.shutdown();
    },
  };
}

const answer = (text: string) =>
  Response.json({
    candidates: [{
      content: { role: "model", parts: [{ text }] },
      finishReason: "STOP",
    }],
  });

/**
 * A narrative quoting only facts of the small sheet (forms of _facts.ts),
 * each figure followed by its fact's citation.
 */
const GOOD =
  "At 2025-12-31 the expected credit loss is EUR 1.25 million [fact:totals.ecl], covering 2.50% [fact:totals.coverage] of a gross carrying amount of EUR 50.00 million [fact:totals.gross_carrying_amount].\n\nStage 2 holds 80.00% [fact:stage.2.ecl_share] of the ECL. The energy overlay adds EUR 50,000.00 [fact:overlay.energy.ecl_impact].";

/** {@link GOOD} as shown: the citations taken out. */
const GOOD_SHOWN =
  "At 2025-12-31 the expected credit loss is EUR 1.25 million, covering 2.50% of a gross carrying amount of EUR 50.00 million.\n\nStage 2 holds 80.00% of the ECL. The energy overlay adds EUR 50,000.00.";

const settings = (timeout = 5) =>
  explainSettings({
    provider: "vertex",
    model: "gemini-test",
    project: "test-project",
    location: "europe-west1",
    timeout_seconds: timeout,
  });

async function withFake(
  reply: Reply | "hang",
  body: (
    fake: ReturnType<typeof fakeVertex>,
    n: () => Promise<Narrative>,
  ) => Promise<void>,
  timeout = 5,
) {
  const fake: ReturnType<typeof fakeVertex> = fakeVertex((req) =>
    reply === "hang" ? fake.hang() : reply(req)
  );
  try {
    await body(
      fake,
      () =>
        writeNarrative(smallSheet(), settings(timeout), {
          baseUrl: fake.baseUrl,
          accessToken: TOKEN,
        }),
    );
  } finally {
    await fake.close();
  }
}

Deno.test("writeNarrative() sends the facts to the model path with the token in the header only, and keeps a good answer", () =>
  withFake(() => answer(GOOD), async (fake, n) => {
    const narrative = await n();
    assert.equal(fake.seen.length, 1);
    const req = fake.seen[0];
    assert.equal(req.method, "POST");
    assert.equal(
      req.path,
      "/v1beta1/projects/test-project/locations/europe-west1/publishers/google/models/gemini-test:generateContent",
    );
    assert.equal(req.authorization, `Bearer ${TOKEN}`);
    // No secret in the body the model sees.
    assert.ok(!req.body.includes(TOKEN));
    assert.ok(!req.body.includes("ya29"));
    const body = JSON.parse(req.body);
    const prompt = body.contents[0].parts[0].text as string;
    // The facts travel as JSON in the prompt, with their forms.
    const json = JSON.parse(prompt.slice(prompt.indexOf("{")));
    const ecl = json.facts.find((f: { id: string }) => f.id === "totals.ecl");
    assert.deepEqual(ecl.formatted, [
      "1,250,000.00",
      "1,250,000",
      "1,250.0 thousand",
      "1.25 million",
      "1.3 million",
    ]);
    assert.equal(json.reporting_date, "2025-12-31");
    assert.match(
      body.systemInstruction.parts[0].text,
      /only source/,
    );
    assert.equal(narrative.provider, "vertex");
    assert.equal(narrative.model, "gemini-test");
    assert.equal(narrative.text, GOOD_SHOWN);
    assert.equal(narrative.fallback_reason, undefined);
    // 2025-12-31 is a date; 1.25 million, 2.50%, 50.00 million, 80.00%
    // and 50,000.00 are figures, each a fact.
    assert.equal(narrative.check?.figures, 5);
  }));

Deno.test("writeNarrative() falls back to the template when the model quotes a figure not in the facts", () =>
  withFake(
    () =>
      answer(
        GOOD +
          " The allowance is expected to reach EUR 1.4 million next year, 12% more.",
      ),
    async (_, n) => {
      const narrative = await n();
      assert.equal(narrative.provider, "template");
      assert.equal(
        narrative.fallback_reason,
        "Vertex AI model gemini-test quoted 2 figures that are not in the fact sheet (1.4 million (no fact cited), 12% (no fact cited)), so its text was not used",
      );
      assert.deepEqual(narrative.requested, {
        provider: "vertex",
        model: "gemini-test",
      });
      assert.match(narrative.text, /^At 2025-12-31 the expected credit loss/);
    },
  ));

Deno.test("writeNarrative() falls back to the template on a malformed answer", async () => {
  for (
    const [reply, reason] of [
      [() => Response.json({ candidates: [] }), /malformed answer: no text/],
      [
        () => Response.json({ candidates: [{ finishReason: "SAFETY" }] }),
        /malformed answer: it did not finish \(SAFETY\)/,
      ],
      [
        () =>
          Response.json({
            candidates: [{
              content: {
                role: "model",
                parts: [{ text: "At 2025-12-31 the" }],
              },
              finishReason: "MAX_TOKENS",
            }],
          }),
        /malformed answer: it did not finish \(MAX_TOKENS\)/,
      ],
      [() => Response.json({}), /malformed answer: no text/],
      [
        () =>
          new Response("<html>gateway</html>", {
            headers: { "content-type": "text/html" },
          }),
        /^Vertex AI model gemini-test: malformed answer \(.*not valid JSON/,
      ],
    ] as [Reply, RegExp][]
  ) {
    await withFake(reply, async (_, n) => {
      const narrative = await n();
      assert.equal(narrative.provider, "template");
      assert.match(narrative.fallback_reason ?? "", reason);
    });
  }
});

Deno.test("writeNarrative() falls back to the template on error statuses 429 and 500, without retrying", async () => {
  for (const status of [429, 500]) {
    await withFake(
      () =>
        Response.json(
          { error: { code: status, message: "quota", status: "X" } },
          { status },
        ),
      async (fake, n) => {
        const narrative = await n();
        assert.equal(narrative.provider, "template");
        assert.match(
          narrative.fallback_reason ?? "",
          new RegExp(`^Vertex AI model gemini-test: HTTP status ${status}: `),
        );
        assert.equal(fake.seen.length, 1);
      },
    );
  }
});

Deno.test("writeNarrative() gives up at the timeout on a server that never answers", () =>
  withFake("hang", async (fake, n) => {
    const started = performance.now();
    const narrative = await n();
    const seconds = (performance.now() - started) / 1000;
    assert.equal(narrative.provider, "template");
    assert.match(
      narrative.fallback_reason ?? "",
      /no answer within 0\.5 s|abort/i,
    );
    assert.equal(fake.seen.length, 1);
    // About the timeout: not before it, and not much after.
    assert.ok(seconds >= 0.45 && seconds < 3, `took ${seconds} s`);
  }, 0.5));

Deno.test("writeNarrative() falls back when the endpoint refuses the connection or there are no credentials", async () => {
  // A port nothing listens on: take one, then close it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const refused = await writeNarrative(smallSheet(), settings(), {
    baseUrl: `http://127.0.0.1:${port}/`,
    accessToken: TOKEN,
  });
  assert.equal(refused.provider, "template");
  assert.match(refused.fallback_reason ?? "", /^Vertex AI model gemini-test: /);

  // No project and no API key anywhere: said before any call.
  const saved = ["GOOGLE_CLOUD_PROJECT", "GOOGLE_API_KEY"].map((
    k,
  ) => [k, Deno.env.get(k)] as const);
  for (const [k] of saved) Deno.env.delete(k);
  try {
    const none = await writeNarrative(
      smallSheet(),
      explainSettings({ provider: "vertex", model: "gemini-test" }),
    );
    assert.equal(none.provider, "template");
    assert.match(
      none.fallback_reason ?? "",
      /no credentials: set explain\.project/,
    );
  } finally {
    for (const [k, v] of saved) if (v !== undefined) Deno.env.set(k, v);
  }
});

Deno.test("vertexNarrative() in Vertex AI express mode sends the API key in its header, not in the prompt", () =>
  withFake(() => answer(GOOD), async (fake) => {
    const text = await vertexNarrative(smallSheet(), {
      model: "gemini-test",
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutSeconds: 5,
    });
    assert.equal(text, GOOD);
    const req = fake.seen[0];
    assert.equal(
      req.path,
      "/v1beta1/publishers/google/models/gemini-test:generateContent",
    );
    assert.equal(req.apiKey, API_KEY);
    assert.ok(!req.body.includes(API_KEY));
  }));

Deno.test("writeNarrative() sends no loan id, path or run id to the model, and refuses a figure in another sense", async () => {
  const summary = smallSummary();
  summary.run_id = "book-L77-run";
  summary.overlays[0].reason =
    "loans L000123 and L000456 per /srv/bank/overlays.yaml";
  const sheet = buildFactSheet({
    summary,
    warnings: [
      "Rows with loan_id L000999 were skipped in /data/portfolio_2025-12-31.parquet",
      "FX table s3://bank-data/fx/rates.yaml is as of 2025-11-30",
    ],
  });
  const fake = fakeVertex(() =>
    answer(
      "The ECL is EUR 50.00 million [fact:totals.gross_carrying_amount].",
    )
  );
  try {
    const n = await writeNarrative(sheet, settings(), {
      baseUrl: fake.baseUrl,
      accessToken: TOKEN,
    });
    assert.equal(fake.seen.length, 1);
    const body = fake.seen[0].body;
    for (
      const secret of [
        "L000123",
        "L000456",
        "L000999",
        "book-L77-run",
        "/srv/bank",
        "overlays.yaml",
        "/data/",
        "portfolio_2025",
        "s3://",
        "bank-data",
      ]
    ) assert.ok(!body.includes(secret), `${secret} was sent`);
    // The rest of the warning is still there, for the model to mention.
    assert.ok(body.includes("is as of 2025-11-30"));
    // A figure of the gross carrying amount said of the ECL: refused.
    assert.equal(n.provider, "template");
    assert.match(
      n.fallback_reason ?? "",
      /50\.00 million \(said of the ecl, cited as totals\.gross_carrying_amount\)/,
    );
  } finally {
    await fake.close();
  }
});

Deno.test("explainSettings(): a model only on the operator's word; a run folder's record does not switch it on", () => {
  const saved = Deno.env.get("IFRS9_EXPLAIN_PROVIDER");
  try {
    Deno.env.delete("IFRS9_EXPLAIN_PROVIDER");
    const manifest = {
      inputs: {
        rules: {
          parameters: {
            "explain.provider": "vertex",
            "explain.project": "p",
          },
        },
      },
    } as unknown as Manifest;
    const recorded = recordedExplain(manifest);
    assert.equal(recorded.provider, undefined);
    assert.equal(explainSettings(recorded).provider, "template");
    assert.equal(
      explainSettings(recorded, { provider: "vertex" }).provider,
      "vertex",
    );
    Deno.env.set("IFRS9_EXPLAIN_PROVIDER", "vertex");
    assert.equal(explainSettings(recorded).provider, "vertex");
    assert.equal(explainSettings(recorded).project, "p");
    assert.equal(
      explainSettings(recorded, { provider: "template" }).provider,
      "template",
    );
  } finally {
    if (saved === undefined) Deno.env.delete("IFRS9_EXPLAIN_PROVIDER");
    else Deno.env.set("IFRS9_EXPLAIN_PROVIDER", saved);
  }
});
