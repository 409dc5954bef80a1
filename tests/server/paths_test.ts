/**
 * The paths a request may name (lib/server/paths.ts): what lies under the
 * roots is resolved to its real path, everything else is refused with the
 * field and the reason.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { projectPath } from "../../lib/project.ts";
import {
  RequestPathError,
  resolveRequestPath,
  resolveRunFolder,
  rootFolder,
} from "../../lib/server/paths.ts";

/** A temporary root with `book.csv`, a folder `sub/` and a run folder `runs/q4/`. */
async function withRoot(body: (root: string) => Promise<void>) {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "paths-" }),
  );
  try {
    await Deno.writeTextFile(join(root, "book.csv"), "loan_id\n");
    await Deno.mkdir(join(root, "sub"));
    await Deno.writeTextFile(join(root, "sub", "book.parquet"), "");
    await Deno.mkdir(join(root, "runs", "q4"), { recursive: true });
    await Deno.writeTextFile(join(root, "runs", "q4", "manifest.json"), "{}");
    await body(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** The message of the RequestPathError `promise` rejects with. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof RequestPathError, String(e));
    assert.equal(e.kind, "input");
    return e.message;
  }
  assert.fail("not refused");
}

Deno.test("resolveRequestPath() resolves a file under a root, absolute or relative to the project", async () => {
  await withRoot(async (root) => {
    const roots = [root];
    assert.equal(
      await resolveRequestPath("portfolio", join(root, "book.csv"), { roots }),
      join(root, "book.csv"),
    );
    assert.equal(
      await resolveRequestPath("portfolio", join(root, "sub", "book.parquet"), {
        roots,
      }),
      join(root, "sub", "book.parquet"),
    );
    // `.` segments and doubled slashes are harmless: normalized.
    assert.equal(
      await resolveRequestPath("portfolio", `${root}/./sub//book.parquet`, {
        roots,
      }),
      join(root, "sub", "book.parquet"),
    );
    // Relative to the project root, whatever the working directory.
    const rel = relative(projectPath("."), join(root, "book.csv"));
    if (!rel.startsWith("..")) {
      assert.equal(
        await resolveRequestPath("portfolio", rel, { roots }),
        join(root, "book.csv"),
      );
    }
    assert.equal(
      await resolveRequestPath("rules", "config/ifrs9_rules.yaml", {
        roots: ["config"],
      }),
      await Deno.realPath(projectPath("config/ifrs9_rules.yaml")),
    );
  });
});

Deno.test("resolveRequestPath() refuses NUL bytes, empty paths, schemes, '..' segments and paths outside the roots", async () => {
  await withRoot(async (root) => {
    const roots = [root];
    const cases: [string, RegExp][] = [
      ["book\0.csv", /^fx: contains a NUL byte$/],
      ["", /^fx: is empty; give a path$/],
      ["   ", /^fx: is empty/],
      [
        "s3://bucket/book.csv",
        /^fx: s3:\/\/bucket\/book\.csv: object storage is not configured on this server; give a path under /,
      ],
      ["S3://bucket/book.csv", /object storage is not configured/],
      [
        "http://example.com/x.csv",
        /^fx: http:\/\/example\.com\/x\.csv: the scheme http: is not accepted/,
      ],
      ["https://example.com/x.csv", /the scheme https: is not accepted/],
      [`file://${root}/book.csv`, /the scheme file: is not accepted/],
      ["data:text/csv,loan_id", /the scheme data: is not accepted/],
      [`${root}/../book.csv`, /^fx: has a '\.\.' segment; give a path under /],
      [`${root}/sub/../book.csv`, /has a '\.\.' segment/],
      ["../../etc/passwd", /has a '\.\.' segment/],
      [`${root}\\..\\book.csv`, /has a '\.\.' segment/],
      [
        "/etc/passwd",
        new RegExp(
          `^fx: /etc/passwd is outside the allowed folders \\(${root}\\)$`,
        ),
      ],
      [`${root}-other/book.csv`, /is outside the allowed folders/],
      ["x".repeat(4097), /is longer than 4096 characters/],
    ];
    for (const [value, expected] of cases) {
      assert.match(
        await refusal(resolveRequestPath("fx", value, { roots })),
        expected,
        value.slice(0, 80),
      );
    }
  });
});

Deno.test("resolveRequestPath() refuses what does not exist, a folder for a file, a file for a folder, and a device", async () => {
  await withRoot(async (root) => {
    const roots = [root];
    assert.match(
      await refusal(
        resolveRequestPath("portfolio", join(root, "nope.csv"), { roots }),
      ),
      /^portfolio: .*nope\.csv: no such file$/,
    );
    assert.match(
      await refusal(
        resolveRequestPath("portfolio", join(root, "sub"), { roots }),
      ),
      /^portfolio: .*sub is a folder; give a file$/,
    );
    assert.match(
      await refusal(
        resolveRequestPath("from", join(root, "book.csv"), {
          roots,
          kind: "folder",
        }),
      ),
      /^from: .*book\.csv is not a folder$/,
    );
    assert.match(
      await refusal(
        resolveRequestPath("from", join(root, "nope"), {
          roots,
          kind: "folder",
        }),
      ),
      /no such folder$/,
    );
    assert.equal(
      await resolveRequestPath("from", join(root, "sub"), {
        roots,
        kind: "folder",
      }),
      join(root, "sub"),
    );
    assert.match(
      await refusal(
        resolveRequestPath("portfolio", "/dev/null", { roots: ["/dev"] }),
      ),
      /^portfolio: \/dev\/null is not a regular file; give a file$/,
    );
  });
});

Deno.test("resolveRequestPath() refuses a loop of links, a path through a file and a name over 255 bytes as the request's fault, naming the field, not the server's paths", async () => {
  await withRoot(async (root) => {
    await Deno.symlink(join(root, "loop_b"), join(root, "loop_a"));
    await Deno.symlink(join(root, "loop_a"), join(root, "loop_b"));
    const cases: [string, string, RegExp][] = [
      ["portfolio", join(root, "loop_a"), /a loop of symbolic links$/],
      ["rules", join(root, "loop_a", "x.yaml"), /a loop of symbolic links$/],
      [
        "fx",
        join(root, "book.csv", "fx.yaml"),
        /a part of the path before the last is a file, not a folder$/,
      ],
      [
        "portfolio",
        join(root, `${"x".repeat(256)}.csv`),
        /has a name \(between two '\/'\) longer than 255 bytes/,
      ],
      // 128 characters, 256 bytes in UTF-8.
      [
        "portfolio",
        join(root, "é".repeat(128)),
        /longer than 255 bytes/,
      ],
    ];
    for (const [field, value, reason] of cases) {
      const message = await refusal(
        resolveRequestPath(field, value, { roots: [root] }),
      );
      assert.match(message, new RegExp(`^${field}: `), value);
      assert.match(message, reason, value);
    }
    // A relative path: the message shows it as given, not the server's
    // absolute path of it.
    const rel = `data/tmp/paths-test-${crypto.randomUUID()}`;
    await Deno.mkdir(projectPath(rel), { recursive: true });
    try {
      await Deno.symlink("loop", projectPath(`${rel}/loop`));
      await Deno.writeTextFile(projectPath(`${rel}/file`), "");
      for (
        const value of [`${rel}/loop/x.csv`, `${rel}/file/x.csv`]
      ) {
        const message = await refusal(
          resolveRequestPath("portfolio", value, { roots: [rel] }),
        );
        assert.match(message, /^portfolio: data\/tmp\/paths-test-/, value);
        assert.ok(!message.includes(projectPath(".")), message);
      }
    } finally {
      await Deno.remove(projectPath(rel), { recursive: true });
    }
    // A name of 255 bytes is fine (it just does not exist).
    assert.match(
      await refusal(
        resolveRequestPath("portfolio", join(root, "x".repeat(255)), {
          roots: [root],
        }),
      ),
      /no such file$/,
    );
    // The same through resolveRunFolder, for both of its ways in.
    assert.match(
      await refusal(
        resolveRunFolder("from", join(root, "loop_a"), {
          roots: [root],
          outDir: join(root, "runs"),
        }),
      ),
      /^from: .*a loop of symbolic links/,
    );
    await Deno.symlink(
      join(root, "runs", "q4", "m2"),
      join(root, "runs", "q4", "m1"),
    );
    await Deno.symlink(
      join(root, "runs", "q4", "m1"),
      join(root, "runs", "q4", "m2"),
    );
    await Deno.remove(join(root, "runs", "q4", "manifest.json"));
    await Deno.symlink(
      join(root, "runs", "q4", "m1"),
      join(root, "runs", "q4", "manifest.json"),
    );
    assert.match(
      await refusal(
        resolveRunFolder("to", "q4", {
          roots: [root],
          outDir: join(root, "runs"),
        }),
      ),
      /^to: q4 is not a run folder \(it has no manifest\.json\)$/,
    );
  });
});

Deno.test("resolveRequestPath() follows links inside the roots and refuses links that lead out, wherever they sit on the path", async () => {
  await withRoot(async (root) => {
    const outside = await Deno.realPath(
      await Deno.makeTempDir({ prefix: "outside-" }),
    );
    try {
      await Deno.writeTextFile(join(outside, "secret.csv"), "x");
      const roots = [root];
      // A link to a file inside the root: its real path is returned.
      await Deno.symlink(join(root, "book.csv"), join(root, "alias.csv"));
      assert.equal(
        await resolveRequestPath("portfolio", join(root, "alias.csv"), {
          roots,
        }),
        join(root, "book.csv"),
      );
      // A link to a file outside.
      await Deno.symlink(join(outside, "secret.csv"), join(root, "out.csv"));
      assert.match(
        await refusal(
          resolveRequestPath("portfolio", join(root, "out.csv"), { roots }),
        ),
        /^portfolio: .*out\.csv leads through a symbolic link outside the allowed folders/,
      );
      // A linked folder on the way.
      await Deno.symlink(outside, join(root, "linked"));
      assert.match(
        await refusal(
          resolveRequestPath("portfolio", join(root, "linked", "secret.csv"), {
            roots,
          }),
        ),
        /leads through a symbolic link outside/,
      );
      // A dangling link is a missing file.
      await Deno.symlink(join(root, "gone.csv"), join(root, "dangling.csv"));
      assert.match(
        await refusal(
          resolveRequestPath("portfolio", join(root, "dangling.csv"), {
            roots,
          }),
        ),
        /no such file/,
      );
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("resolveRequestPath() accepts a root that is itself a link, by either of its names", async () => {
  await withRoot(async (root) => {
    const link = `${root}-link`;
    await Deno.symlink(root, link);
    try {
      assert.equal(
        await resolveRequestPath("portfolio", join(link, "book.csv"), {
          roots: [link],
        }),
        join(root, "book.csv"),
      );
      assert.equal(
        await resolveRequestPath("portfolio", join(root, "book.csv"), {
          roots: [link],
        }),
        join(root, "book.csv"),
      );
    } finally {
      await Deno.remove(link);
    }
  });
});

Deno.test("resolveRequestPath() skips roots that are not local folders and names the roots it has", async () => {
  await withRoot(async (root) => {
    assert.match(
      await refusal(
        resolveRequestPath("portfolio", "/etc/hosts", {
          roots: ["s3://bank/data", root],
        }),
      ),
      new RegExp(`outside the allowed folders \\(${root}\\)$`),
    );
    assert.match(
      await refusal(
        resolveRequestPath("portfolio", "/etc/hosts", {
          roots: ["s3://bank/data"],
        }),
      ),
      /outside the allowed folders \(\(none configured\)\)$/,
    );
  });
});

Deno.test("rootFolder() takes relative roots from the project, absolute ones as they are", () => {
  assert.equal(rootFolder("data"), projectPath("data"));
  assert.equal(rootFolder("/srv/data/"), "/srv/data/");
  assert.equal(rootFolder("/srv//data"), "/srv/data");
});

Deno.test("resolveRunFolder() takes a run id of the output folder or a run folder's path under the roots", async () => {
  await withRoot(async (root) => {
    const outDir = join(root, "runs");
    const where = { roots: [root], outDir };
    assert.equal(
      await resolveRunFolder("from", "q4", where),
      join(outDir, "q4"),
    );
    assert.equal(
      await resolveRunFolder("from", join(outDir, "q4"), where),
      join(outDir, "q4"),
    );
    assert.match(
      await refusal(resolveRunFolder("from", "q5", where)),
      /^from: no run q5 in .*runs \(.*no such folder\); give a run id/,
    );
    assert.match(
      await refusal(resolveRunFolder("to", ".q4", where)),
      /^to: "\.q4" is not a run id/,
    );
    assert.match(
      await refusal(resolveRunFolder("to", "sub", { ...where, outDir: root })),
      /^to: sub is not a run folder \(it has no manifest\.json\)$/,
    );
    assert.match(
      await refusal(resolveRunFolder("to", "/tmp", where)),
      /^to: \/tmp is outside the allowed folders/,
    );
    assert.match(
      await refusal(resolveRunFolder("to", "s3://bank/runs/q4", where)),
      /object storage is not configured/,
    );
    // A run id that is a link out of the output folder.
    const outside = await Deno.realPath(
      await Deno.makeTempDir({ prefix: "outside-" }),
    );
    try {
      await Deno.writeTextFile(join(outside, "manifest.json"), "{}");
      await Deno.symlink(outside, join(outDir, "q9"));
      assert.match(
        await refusal(resolveRunFolder("from", "q9", where)),
        /^from: no run q9 in .*leads through a symbolic link outside/,
      );
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});
