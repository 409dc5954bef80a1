/**
 * What the project needs beyond npm packages, and how to tell whether a
 * machine already has it. The Dockerfile installs exactly
 * {@link SYSTEM_PACKAGES}; keep the two in step.
 *
 * @module
 */

/** A Debian package the notebooks, browser or monitoring checks need. */
export interface SystemPackage {
  /** The Debian package name, as `apt-get install` takes it. */
  package: string;
  /** Why the project needs it, shown in setup's output. */
  purpose: string;
  /**
   * A command that exits 0 exactly when the package's program is usable.
   * Probing the program rather than dpkg lets a machine that has the tool
   * from elsewhere pass too.
   */
  probe: readonly string[];
}

/**
 * The Debian packages of the notebook door (headless execution with the
 * Deno kernel, HTML rendering), of the engine's independent cross-check
 * (`tests/engine/independent_ecl.py`), of the report's browser test and of
 * the run server's monitoring checks (`promtool` on `monitoring/` and on
 * the `/metrics` scrape).
 */
export const SYSTEM_PACKAGES: readonly SystemPackage[] = [
  {
    package: "python3",
    purpose:
      "runs the independent implementation of the methodology in the tests",
    probe: ["python3", "--version"],
  },
  {
    package: "jupyter-nbconvert",
    purpose: "executes notebooks headless and renders them to HTML",
    probe: ["jupyter-nbconvert", "--version"],
  },
  {
    package: "jupyter-client",
    purpose: "kernel specs and the kernel protocol client",
    probe: ["jupyter-kernelspec", "--version"],
  },
  {
    package: "python3-nbclient",
    purpose: "runs notebook cells for nbconvert's executor",
    probe: ["jupyter-execute", "--version"],
  },
  {
    package: "chromium",
    purpose:
      "headless browser that checks the rendered notebooks (deno task notebooks) and the pages' browser test",
    probe: ["chromium", "--version"],
  },
  {
    package: "prometheus",
    purpose:
      "promtool: checks the server's /metrics scrape and the alert rules in monitoring/, and runs their unit tests",
    probe: ["promtool", "--version"],
  },
];

/** The name under which `deno jupyter --install` registers its kernel. */
export const DENO_KERNEL_NAME = "deno";
