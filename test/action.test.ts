/**
 * The GitHub Action (action.yml): its scan step's script, run by bash as the runner runs it, with
 * the inputs in the environment. A stub `modelgate` records the arguments; the last test runs the
 * real CLI.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { tempFolders } from "./support/tempFolders.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "dist", "bundle", "modelgate.js");
const PAYLOAD = join(ROOT, "test", "fixtures", "malicious", "p01_builtins_eval_proto2.pkl");

type Step = { id?: string; run?: string; env?: Record<string, string> };
const action = parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as {
  inputs: Record<string, { default: string }>;
  runs: { steps: Step[] };
};
const scanStep = action.runs.steps.find((s) => s.id === "scan")!;
const newFolder = tempFolders("modelgate-action-");

/** The environment variable the step gives each input, from its `env:` block (`${{ inputs.x }}`). */
function inputVariables(): Map<string, string> {
  const vars = new Map<string, string>();
  for (const [name, value] of Object.entries(scanStep.env ?? {})) {
    const m = /^\$\{\{ inputs\.([\w-]+) \}\}$/.exec(value);
    if (m) vars.set(m[1]!, name);
  }
  return vars;
}

type StepRun = { status: number | null; outputs: string; stderr: string; bin: string };

/**
 * Runs the scan step in `cwd` with the action's defaults overridden by `inputs`, `modelgate` being
 * the shell script `executable`.
 */
async function runScanStep(cwd: string, inputs: Record<string, string>, executable: string): Promise<StepRun> {
  const bin = await newFolder();
  writeFileSync(join(bin, "modelgate"), executable);
  chmodSync(join(bin, "modelgate"), 0o755);
  const outputs = join(bin, "github-output");
  writeFileSync(outputs, "");
  const env: Record<string, string> = { PATH: `${bin}:${process.env.PATH}`, GITHUB_OUTPUT: outputs };
  for (const [input, variable] of inputVariables()) env[variable] = inputs[input] ?? action.inputs[input]?.default ?? "";
  const run = spawnSync("bash", ["-e", "-c", scanStep.run!], { cwd, env, encoding: "utf8" });
  return { status: run.status, outputs: readFileSync(outputs, "utf8"), stderr: run.stderr, bin };
}

/** A stub that writes its arguments beside itself, one per line, and exits 0. */
const RECORDER = '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "$(dirname "$0")/args"\n';

/** The arguments the step gives modelgate for `inputs`. */
async function argumentsFor(inputs: Record<string, string>): Promise<string[]> {
  const step = await runScanStep(await newFolder(), inputs, RECORDER);
  assert.equal(step.status, 0, step.stderr);
  assert.match(step.outputs, /^exit-code=0$/m);
  return readFileSync(join(step.bin, "args"), "utf8").split("\n").slice(0, -1);
}

test("action: every input the scan step reads is declared with a default and reaches its environment", () => {
  const vars = inputVariables();
  for (const input of ["paths", "exclude", "ignore-file", "fail-on", "policy", "sarif-file"]) {
    assert.ok(vars.has(input), `${input} is not passed to the scan step`);
    assert.equal(typeof action.inputs[input]?.default, "string", `${input} has no default`);
  }
});

test("action: inputs become arguments, split on spaces, never expanded or run by the shell", async () => {
  assert.deepEqual(await argumentsFor({}), ["scan", ".", "--format", "sarif", "-o", "modelgate.sarif", "--no-progress"]);
  const marker = join(await newFolder(), "ran");
  const args = await argumentsFor({ paths: "models extra/*.bin", exclude: "*.tmp $(touch " + marker + ")", "fail-on": "high", policy: "org policy.yml" });
  assert.deepEqual(args, [
    "scan", "models", "extra/*.bin", "--format", "sarif", "-o", "modelgate.sarif", "--no-progress",
    "--fail-on", "high", "--policy", "org policy.yml", "--exclude", "*.tmp", "--exclude", "$(touch", "--exclude", `${marker})`,
  ]);
  assert.equal(existsSync(marker), false, "an input was run as a command");
});

test("action: ignore-file false passes --no-ignore-file; anything but true or false is a usage error (exit 4)", async () => {
  assert.ok(!(await argumentsFor({ "ignore-file": "true" })).includes("--no-ignore-file"));
  assert.ok((await argumentsFor({ "ignore-file": "false" })).includes("--no-ignore-file"));
  const step = await runScanStep(await newFolder(), { "ignore-file": "no" }, RECORDER);
  assert.equal(step.status, 4);
  assert.match(step.outputs, /^exit-code=4$/m);
  assert.equal(existsSync(join(step.bin, "args")), false, "modelgate ran on an invalid input");
});

test("action: with ignore-file false, a .modelgateignore in the checkout cannot hide a payload from the real CLI", async () => {
  const checkout = await newFolder();
  copyFileSync(PAYLOAD, join(checkout, "model.pkl"));
  writeFileSync(join(checkout, ".modelgateignore"), "model.pkl\n");
  const real = `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`;
  const trusting = await runScanStep(checkout, {}, real);
  assert.match(trusting.outputs, /^exit-code=3$/m, "the checkout's own ignore file applies by default (nothing left to scan)");
  const distrusting = await runScanStep(checkout, { "ignore-file": "false" }, real);
  assert.match(distrusting.outputs, /^exit-code=1$/m, distrusting.stderr);
  const sarif = JSON.parse(readFileSync(join(checkout, "modelgate.sarif"), "utf8")) as { runs: { results: { ruleId: string }[] }[] };
  assert.ok(sarif.runs[0]!.results.length > 0, "the payload's findings are in the SARIF report");
});
