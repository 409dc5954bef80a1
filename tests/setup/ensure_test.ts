/**
 * Tests of the setup step's decisions with a fake command runner: what it
 * probes, when it runs apt-get (and how), when it registers the kernel, and
 * what its errors say. Nothing here installs anything.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type CommandOptions,
  type CommandResult,
  ensureEnvironment,
  SetupError,
  type SystemPackage,
} from "../../lib/setup/mod.ts";

const DENO = "/opt/deno/bin/deno";

const PACKAGES: SystemPackage[] = [
  {
    package: "jupyter-nbconvert",
    purpose: "p1",
    probe: ["jupyter-nbconvert", "--version"],
  },
  { package: "chromium", purpose: "p2", probe: ["chromium", "--version"] },
];

/** A machine simulated in memory: installed packages and a kernel spec. */
class FakeMachine {
  calls: { argv: string[]; env?: Record<string, string> }[] = [];
  installed: Set<string>;
  kernel: string | null;
  sudo = false;
  failInstall: string | null = null;

  constructor(installed: string[], kernel: string | null) {
    this.installed = new Set(installed);
    this.kernel = kernel;
  }

  run = (
    argv: readonly string[],
    options?: CommandOptions,
  ): Promise<CommandResult> => {
    this.calls.push({ argv: [...argv], env: options?.env });
    return Promise.resolve(this.answer([...argv]));
  };

  answer(argv: string[]): CommandResult {
    const ok = (stdout = ""): CommandResult => ({
      code: 0,
      stdout,
      stderr: "",
    });
    const line = argv.join(" ");
    const probe = PACKAGES.find((p) => p.probe.join(" ") === line);
    if (probe) {
      return this.installed.has(probe.package)
        ? ok("1.0")
        : { code: 127, stdout: "", stderr: `${argv[0]}: not found` };
    }
    if (line === "sudo -n true") {
      return this.sudo
        ? ok()
        : { code: 1, stdout: "", stderr: "sudo: a password is required" };
    }
    const apt = argv.indexOf("apt-get");
    if (apt >= 0) {
      if (argv[apt + 1] === "update") return ok();
      if (this.failInstall !== null) {
        return {
          code: 100,
          stdout: "",
          stderr: `Reading package lists...\nE: ${this.failInstall}`,
        };
      }
      for (const p of argv.slice(apt + 3)) this.installed.add(p);
      return ok();
    }
    if (line === "jupyter-kernelspec list --json") {
      const specs = this.kernel === null ? {} : {
        deno: {
          spec: {
            argv: [
              this.kernel,
              "jupyter",
              "--kernel",
              "--conn",
              "{connection_file}",
            ],
          },
        },
      };
      return ok(JSON.stringify({ kernelspecs: specs }));
    }
    if (line === `${DENO} jupyter --install --force`) {
      this.kernel = DENO;
      return ok();
    }
    throw new Error(`unexpected command: ${line}`);
  }

  commands(): string[] {
    return this.calls.map((c) => c.argv.join(" "));
  }
}

function options(
  machine: FakeMachine,
  extra: { isRoot?: boolean; install?: boolean } = {},
) {
  const lines: string[] = [];
  return {
    lines,
    opts: {
      run: machine.run,
      log: (l: string) => lines.push(l),
      denoPath: DENO,
      isRoot: extra.isRoot ?? true,
      install: extra.install,
      packages: PACKAGES,
      resolvePath: (p: string) =>
        Promise.resolve(p === "/usr/local/bin/deno" ? DENO : p),
    },
  };
}

Deno.test("ensureEnvironment() is a no-op when everything is present", async () => {
  const machine = new FakeMachine(["jupyter-nbconvert", "chromium"], DENO);
  const { lines, opts } = options(machine);
  const report = await ensureEnvironment(opts);
  assert.equal(report.ok, true);
  assert.deepEqual(report.items.map((i) => i.status), [
    "present",
    "present",
    "present",
  ]);
  assert.deepEqual(machine.commands(), [
    "jupyter-nbconvert --version",
    "chromium --version",
    "jupyter-kernelspec list --json",
  ]);
  assert.deepEqual(lines, [
    "setup: jupyter-nbconvert present",
    "setup: chromium present",
    `setup: Deno Jupyter kernel present (${DENO})`,
  ]);
});

Deno.test("ensureEnvironment() counts a kernel registered through a symlink as present", async () => {
  const machine = new FakeMachine(
    ["jupyter-nbconvert", "chromium"],
    "/usr/local/bin/deno",
  );
  const { opts } = options(machine);
  const report = await ensureEnvironment(opts);
  assert.equal(report.items.at(-1)?.status, "present");
  assert.ok(!machine.commands().some((c) => c.includes("--install")));
});

Deno.test("ensureEnvironment() as root runs apt-get update then installs only what is missing", async () => {
  const machine = new FakeMachine(["jupyter-nbconvert"], DENO);
  const { lines, opts } = options(machine);
  const report = await ensureEnvironment(opts);
  const apt = machine.calls.filter((c) => c.argv[0] === "apt-get");
  assert.deepEqual(apt.map((c) => c.argv.join(" ")), [
    "apt-get update",
    "apt-get install -y chromium",
  ]);
  for (const c of apt) {
    assert.deepEqual(c.env, { DEBIAN_FRONTEND: "noninteractive" });
  }
  assert.deepEqual(report.items.map((i) => [i.name, i.status]), [
    ["jupyter-nbconvert", "present"],
    ["chromium", "installed"],
    ["deno-kernel", "present"],
  ]);
  assert.ok(lines.includes("setup: chromium installing"));
  assert.ok(lines.includes("setup: chromium installed"));
  // The package is probed again after apt-get says it succeeded.
  assert.equal(
    machine.commands().filter((c) => c === "chromium --version").length,
    2,
  );
});

Deno.test("ensureEnvironment() uses password-less sudo when not root", async () => {
  const machine = new FakeMachine([], DENO);
  machine.sudo = true;
  const { opts } = options(machine, { isRoot: false });
  await ensureEnvironment(opts);
  assert.deepEqual(machine.commands().filter((c) => c.includes("apt-get")), [
    "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update",
    "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y jupyter-nbconvert chromium",
  ]);
});

Deno.test("ensureEnvironment() fails clearly when not root and sudo needs a password", async () => {
  const machine = new FakeMachine(["jupyter-nbconvert"], DENO);
  const { opts } = options(machine, { isRoot: false });
  const err = await ensureEnvironment(opts).then(() => null, (e) => e);
  assert.ok(err instanceof SetupError);
  assert.match(err.message, /missing: chromium \(p2\)/);
  assert.match(
    err.message,
    /`sudo -n true` failed \(exit 1\):\nsudo: a password is required/,
  );
  assert.match(
    err.message,
    /Run by hand: sudo apt-get update && sudo apt-get install -y chromium/,
  );
  assert.ok(!machine.commands().some((c) => c.includes("apt-get")));
});

Deno.test("ensureEnvironment() reports a failing apt-get with its command and stderr tail", async () => {
  const machine = new FakeMachine(["chromium"], DENO);
  machine.failInstall = "Unable to locate package jupyter-nbconvert";
  const { opts } = options(machine);
  await assert.rejects(ensureEnvironment(opts), (err: Error) => {
    assert.ok(err instanceof SetupError);
    assert.match(
      err.message,
      /`apt-get install -y jupyter-nbconvert` failed \(exit 100\)/,
    );
    assert.match(err.message, /E: Unable to locate package jupyter-nbconvert/);
    assert.match(
      err.message,
      /Run by hand: apt-get update && apt-get install -y jupyter-nbconvert/,
    );
    return true;
  });
});

Deno.test("ensureEnvironment() registers the kernel when it runs another deno", async () => {
  const machine = new FakeMachine(
    ["jupyter-nbconvert", "chromium"],
    "/old/deno",
  );
  const { lines, opts } = options(machine);
  const report = await ensureEnvironment(opts);
  assert.ok(machine.commands().includes(`${DENO} jupyter --install --force`));
  assert.equal(report.items.at(-1)?.status, "registered");
  assert.ok(lines.some((l) => l.includes("registered for /old/deno")));
  assert.equal(machine.kernel, DENO);
});

Deno.test("ensureEnvironment() with install: false only reports what is missing", async () => {
  const machine = new FakeMachine(["jupyter-nbconvert"], null);
  const { lines, opts } = options(machine, { install: false });
  const report = await ensureEnvironment(opts);
  assert.equal(report.ok, false);
  assert.deepEqual(machine.commands(), [
    "jupyter-nbconvert --version",
    "chromium --version",
  ]);
  assert.ok(lines.includes("setup: chromium missing (p2)"));
});
