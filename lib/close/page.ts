/**
 * `close.html`: the status page of a close, with every step's status,
 * attempts, time, outputs, input hashes and error. Every value is escaped
 * (`lib/page.ts` components): paths and error messages may hold anything.
 *
 * @module
 */
import { badge, cards, markup, note, page, section, table } from "../page.ts";
import type { CloseState, StepRecord } from "./state.ts";

/** The badge of a status. */
function statusBadge(r: StepRecord) {
  return r.status === "failed" || r.status === "blocked"
    ? badge("bad", r.status)
    : r.status === "pending"
    ? r.status
    : badge("ok", r.status);
}

/** The whole page for `state`. */
export function renderClosePage(state: CloseState): string {
  const count = (s: string) =>
    String(state.steps.filter((r) => r.status === s).length);
  const body = markup`${
    section(
      "summary",
      "Summary",
      cards([
        { label: "Steps", value: String(state.steps.length) },
        { label: "Succeeded", value: count("succeeded") },
        { label: "Skipped (unchanged)", value: count("skipped") },
        { label: "Failed", value: count("failed") },
        { label: "Blocked", value: count("blocked") },
        { label: "Pending", value: count("pending") },
      ]),
    )
  }${
    section(
      "steps",
      "Steps",
      markup`${
        table<StepRecord>(
          [
            {
              label: "step",
              value: (r) => markup`<code>${r.id}</code>`,
              // An entity's name can be long: the id wraps, the table fits.
              wrap: true,
            },
            { label: "status", value: statusBadge },
            {
              label: "attempts",
              value: (r) => String(r.attempts),
              numeric: true,
            },
            {
              label: "seconds",
              value: (r) => r.seconds.toFixed(2),
              numeric: true,
            },
            {
              label: "outputs",
              value: (r) => r.outputs.join("\n"),
              wrap: true,
            },
            {
              label: "input hashes (SHA-256)",
              value: (r) =>
                Object.entries(r.input_hashes).map(([k, v]) =>
                  `${k}: ${v.slice(0, 12)}…`
                ).join("\n"),
              wrap: true,
            },
            { label: "error", value: (r) => r.error ?? "", wrap: true },
          ],
          state.steps,
          {
            rowClass: (r) =>
              r.status === "failed" || r.status === "blocked"
                ? "bad"
                : undefined,
          },
        )
      }${
        note(
          "skipped: the step's outputs exist and its inputs' SHA-256 match those of its last success; blocked: a step it depends on did not finish. Full hashes are in close.json.",
        )
      }`,
    )
  }`;
  return page({
    title: "Quarter-end close",
    subtitle: `${state.config}${
      state.date ? `, up to ${state.date}` : ""
    }; started ${state.started_at}${
      state.finished_at ? `, finished ${state.finished_at}` : ", running"
    }`,
    toc: [{ id: "summary", label: "Summary" }, {
      id: "steps",
      label: "Steps",
    }],
    footer: "Written by deno task close (lib/close); the record is close.json",
  }, body);
}
