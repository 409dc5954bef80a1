/**
 * `deno task token --scope SCOPES [--expires-in DURATION] [--subject NAME]`:
 * prints a bearer token for the run server (`deno task serve`), an HS256
 * JWT signed with `IFRS9_JWT_SECRET`, with `sub`, `scope`, `iat` and
 * `exp`. Only the token goes to standard output, so
 * `TOKEN=$(deno task token --scope runs:write)` works.
 *
 * `--scope` lists scopes separated by spaces: `runs:read` reads runs and
 * movements, `runs:write` starts them (and reads). `--expires-in` is a
 * whole number of seconds, minutes, hours or days (`90s`, `15m`, `1h`,
 * `1d`; default 1h, at most 365d): the server refuses tokens without an
 * expiry.
 *
 * Exit codes (lib/errors.ts): 0 printed; 2 a usage error, an unknown
 * scope, or `IFRS9_JWT_SECRET` unset or shorter than 32 bytes.
 *
 * @module
 */
import { TaskCommand, UsageError } from "./_args.ts";
import {
  MIN_JWT_SECRET_BYTES,
  mintToken,
  type Scope,
  SCOPES,
} from "../lib/mod.ts";

export const command = new TaskCommand({
  command: "deno task token",
  synopsis: "--scope SCOPES [--expires-in DURATION] [--subject NAME]",
  flags:
    `  --scope SCOPES          scopes separated by spaces: runs:read (read runs and
                          movements), runs:write (start them; implies runs:read)
  --expires-in DURATION   90s, 15m, 1h, 1d (default 1h, at most 365d)
  --subject NAME          who the token is for, the sub claim (default cli);
                          the server's logs and rate limit use it
The token is signed with IFRS9_JWT_SECRET (HS256), which the server uses too.`,
  options: {
    scope: { type: "string" },
    "expires-in": { type: "string" },
    subject: { type: "string" },
  },
  required: ["scope"],
});

/** Seconds in each unit of `--expires-in`. */
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** The longest lifetime accepted, in seconds (365 days). */
const MAX_SECONDS = 365 * 86_400;

/** `--expires-in` in seconds. */
export function parseExpiresIn(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  const seconds = m ? Number(m[1]) * UNITS[m[2]] : NaN;
  if (!(seconds > 0 && seconds <= MAX_SECONDS)) {
    throw new UsageError(
      `--expires-in must be a whole number of s, m, h or d between 1s and 365d (for example 15m, 1h, 1d), got ${value}`,
    );
  }
  return seconds;
}

/** `--scope` as a list of known scopes. */
function parseScopes(value: string): Scope[] {
  const scopes = value.split(/\s+/).filter((s) => s !== "");
  const unknown = scopes.filter((s) =>
    !(SCOPES as readonly string[]).includes(s)
  );
  if (scopes.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `--scope must list ${SCOPES.join(" or ")}, separated by spaces${
        unknown.length ? `; unknown: ${unknown.join(", ")}` : ""
      }`,
    );
  }
  return scopes as Scope[];
}

/**
 * Runs `deno task token` with `args`; returns the exit code. `env` gives
 * the secret (tests pass their own).
 */
export function main(
  args: string[],
  env: { get(name: string): string | undefined } = Deno.env,
): Promise<number> {
  return command.run(args, async ({ values }) => {
    const scopes = parseScopes(values.scope ?? "");
    const expiresInSeconds = parseExpiresIn(values["expires-in"] ?? "1h");
    const subject = values.subject ?? "cli";
    if (subject.trim() === "") {
      throw new UsageError("--subject must not be empty");
    }
    const secret = env.get("IFRS9_JWT_SECRET") ?? "";
    if (secret === "") {
      throw new UsageError(
        "IFRS9_JWT_SECRET is not set: set it to the secret the server uses (deno task serve reads the same variable)",
      );
    }
    const bytes = new TextEncoder().encode(secret).length;
    if (bytes < MIN_JWT_SECRET_BYTES) {
      // The secret itself is never printed.
      throw new UsageError(
        `IFRS9_JWT_SECRET must be at least ${MIN_JWT_SECRET_BYTES} bytes for HS256, got ${bytes} (for example \`openssl rand -hex 32\`)`,
      );
    }
    console.log(
      await mintToken({ secret, scopes, expiresInSeconds, subject }),
    );
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
