/**
 * The gateway's page: recent decisions, quarantined files with their findings, the policy in force.
 * Server-rendered, no script; every value from a scanned file or a request (names, findings,
 * evidence) is escaped, and the response's Content-Security-Policy forbids scripts anyway.
 */
import type { Policy } from "../policy/index.js";
import { describeLocation, printable } from "../report/humanize.js";
import type { DecisionRecord } from "./decisions.js";

export interface PageInput {
  upstream: string;
  store: string;
  auditLog: string;
  policy: Policy;
  recent: readonly DecisionRecord[];
  quarantined: readonly DecisionRecord[];
}

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function escapeHtml(text: string): string {
  return printable(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;vertical-align:top}
code{font-size:12px;word-break:break-all}.pass{color:#136f2d;font-weight:600}.block{color:#b00020;font-weight:600}
.finding{margin:.2rem 0}.sev{display:inline-block;min-width:4.5rem;font-weight:600}.muted{color:#666}`;

export function renderPage(input: PageInput): string {
  const { policy } = input;
  const trusted = policy.sources.trusted.map((t) => (t.kind === "hub" ? `hf://${t.owner}${t.repo ? `/${t.repo}` : ""}${t.revision ? `@${t.revision}` : ""}` : t.prefix));
  const policyRows: [string, string][] = [
    ["policy file", policy.path ?? "none (built-in default: the fail threshold alone)"],
    ["fail on", `${policy.failOn} or worse`],
    ["trusted sources", trusted.length > 0 ? trusted.join(", ") : "any"],
    ["untrusted sources", policy.sources.untrusted],
    ["blocked formats", [...policy.formats.block].join(", ") || "none"],
    ["blocked extensions", policy.extensions.block.join(", ") || "none"],
    ["upstream", input.upstream],
    ["store", input.store],
    ["audit log", input.auditLog],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>modelgate gateway</title><style>${CSS}</style></head>
<body>
<h1>modelgate gateway</h1>
<p class="muted">Every file is scanned before it is served; files the policy blocks are refused and quarantined.</p>
<h2 id="quarantine">Quarantined files (${input.quarantined.length})</h2>
${input.quarantined.length === 0 ? `<p class="muted">None.</p>` : table(["file", "sha256", "decision", "findings"], input.quarantined.map(quarantineRow))}
<h2 id="recent">Recent decisions (${input.recent.length})</h2>
${input.recent.length === 0 ? `<p class="muted">None yet.</p>` : table(["time", "file", "verdict", "findings", "scan"], input.recent.map(recentRow))}
<h2 id="policy">Policy in force</h2>
${table(["", ""], policyRows.map(([k, v]) => [escapeHtml(k), `<code>${escapeHtml(v)}</code>`]))}
</body></html>
`;
}

function table(head: string[], rows: string[][]): string {
  const th = head.some((h) => h !== "") ? `<thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>` : "";
  return `<table>${th}<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n")}</tbody></table>`;
}

function fileCell(d: DecisionRecord): string {
  return `<code>${escapeHtml(`${d.repo}/${d.path}`)}</code><br><span class="muted">${escapeHtml(d.revision)}${d.commit ? ` @ ${escapeHtml(d.commit.slice(0, 12))}` : ""}</span>`;
}

function findingsCell(d: DecisionRecord): string {
  if (d.result.findings.length === 0) return `<span class="muted">none</span>`;
  return d.result.findings
    .map((f) => {
      return `<div class="finding"><span class="sev">${escapeHtml(f.severity)}</span> <code>${escapeHtml(f.rule)}</code> ${escapeHtml(f.message)} <span class="muted">(${escapeHtml(
        describeLocation(f.location),
      )})</span>${f.evidence ? `<br><code class="muted">${escapeHtml(f.evidence)}</code>` : ""}</div>`;
    })
    .join("");
}

function verdictCell(d: DecisionRecord): string {
  const v = d.result.verdict;
  return `<span class="${v}">${v}</span>${d.result.decision ? `<br><span class="muted">${escapeHtml(d.result.decision.reason)}</span>` : ""}`;
}

function quarantineRow(d: DecisionRecord): string[] {
  return [fileCell(d), `<code>${escapeHtml(d.sha256)}</code>`, verdictCell(d), findingsCell(d)];
}

function recentRow(d: DecisionRecord): string[] {
  return [escapeHtml(d.time.replace("T", " ").slice(0, 19)), fileCell(d), verdictCell(d), findingsCell(d), `${d.scanMs.toFixed(0)} ms`];
}
