/** The CLI as users run it: a child process, judged by its exit code and output. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ExitCode, exitCodeFor } from "../src/cli/exitCode.js";
import { progressLine } from "../src/cli/progress.js";
import { reportOf } from "./support/report.js";
import { REPORT_SCHEMA, type ScanReport } from "../src/types.js";
import { MAIN } from "./support/cli.js";
import * as Library from "../src/index.js";
import { opName } from "../src/pickle/opcodes.js";


function modelgate(...args: string[]) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status, stdout, stderr };
}

describe("command line usage", () => {
  it("exits 4 on an unknown option", () => {
    const r = modelgate("scan", "--frobnicate", ".");
    assert.equal(r.status, ExitCode.Usage);
    assert.match(r.stderr, /unknown option '--frobnicate'/);
  });

  it("exits 4 on a --fail-on value that is not a threshold, naming the choices", () => {
    for (const value of ["info", "severe"]) {
      const r = modelgate("scan", "--fail-on", value, ".");
      assert.equal(r.status, ExitCode.Usage, value);
      assert.match(r.stderr, /critical, high, medium, low/);
    }
  });

  it("serve --help names the policy keys the gateway asks the hub about", () => {
    const r = modelgate("serve", "--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /sources\.hub_scan/);
    assert.match(r.stdout, /signatures\.require/);
  });

  it("exits 4 without a path to scan", () => {
    assert.equal(modelgate("scan").status, ExitCode.Usage);
  });

  it("exits 4 without a command", () => {
    assert.equal(modelgate().status, ExitCode.Usage);
  });

  it("exits 0 for --help, with examples and the exit codes", () => {
    const r = modelgate("scan", "--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--fail-on <severity>/);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n {2}3 .*\n {2}4 /);
  });

  it("ends quietly when the reader closes the pipe early (| head)", async () => {
    const child = spawn(process.execPath, [MAIN, "scan", "--format", "json", fileURLToPath(new URL("../../examples", import.meta.url))]);
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.once("data", () => child.stdout.destroy());
    const [code] = (await once(child, "exit")) as [number];
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
    assert.equal(code, ExitCode.Blocked);
  });

  it("exits 0 for --version and prints the package version", () => {
    const r = modelgate("--version");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });
});

describe("command line scans (need the engine)", () => {
  const dir = mkdtempSync(join(tmpdir(), "modelgate-cli-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 4 for a path that does not exist", () => {
    const r = modelgate("scan", join(dir, "no-such-file.pt"));
    assert.equal(r.status, ExitCode.Usage);
    assert.match(r.stderr, /no-such-file\.pt/);
  });

  it("exits 3 for an empty folder", () => {
    const empty = mkdtempSync(join(dir, "empty-"));
    assert.equal(modelgate("scan", empty).status, ExitCode.NoModelFiles);
  });

  it("exits 3 for a folder holding only a text file, and reports it as skipped", () => {
    const texts = mkdtempSync(join(dir, "text-"));
    writeFileSync(join(texts, "notes.txt"), "just some notes\n");
    const r = modelgate("scan", "--format", "json", texts);
    assert.equal(r.status, ExitCode.NoModelFiles);
    const report = JSON.parse(r.stdout) as ScanReport;
    assert.equal(report.schema, REPORT_SCHEMA);
    assert.equal(report.summary.filesScanned, 0);
    assert.equal(report.summary.filesSkipped, 1);
  });

  it("the quickstart's examples: every safe_* file passes, every other model file blocks", () => {
    const examples = fileURLToPath(new URL("../../examples", import.meta.url));
    const r = modelgate("scan", "--format", "json", examples);
    assert.equal(r.status, ExitCode.Blocked);
    const report = JSON.parse(r.stdout) as ScanReport;
    const models = report.files.filter((f) => f.skipped === undefined);
    assert.ok(models.length >= 10, `only ${models.length} example files were scanned`);
    for (const f of models) {
      const safe = /[\\/]safe_[^\\/]*$/.test(f.path);
      assert.equal(f.verdict, safe ? "pass" : "block", `${f.path}: ${JSON.stringify(f.findings)}`);
    }
  });

  it("writes the report to --output and the text report to stderr", () => {
    const texts = mkdtempSync(join(dir, "out-"));
    writeFileSync(join(texts, "notes.txt"), "notes\n");
    const out = join(dir, "report.sarif");
    const r = modelgate("scan", "--format", "sarif", "-o", out, texts);
    assert.equal(r.status, ExitCode.NoModelFiles);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /Summary/);
  });
});


describe("exitCodeFor", () => {
  it("is 0 when scanned files pass", () => {
    assert.equal(exitCodeFor(reportOf([{}])), ExitCode.Pass);
  });

  it("is 1 when a file is blocked", () => {
    assert.equal(exitCodeFor(reportOf([{}, { verdict: "block" }])), ExitCode.Blocked);
  });

  it("is 2 when a file could not be read, even if the engine also marks it blocked", () => {
    assert.equal(exitCodeFor(reportOf([{}, { error: "EIO" }])), ExitCode.ScanFailed);
    assert.equal(exitCodeFor(reportOf([{}, { error: "EIO", verdict: "block" }])), ExitCode.ScanFailed);
  });

  it("prefers 1 over 2: a known-bad model outranks an unreadable neighbour", () => {
    assert.equal(exitCodeFor(reportOf([{ verdict: "block" }, { error: "EIO" }])), ExitCode.Blocked);
  });

  it("is 3 when nothing was a model file, but 2 if something could not be read", () => {
    assert.equal(exitCodeFor(reportOf([])), ExitCode.NoModelFiles);
    assert.equal(exitCodeFor(reportOf([{ skipped: "text" }])), ExitCode.NoModelFiles);
    assert.equal(exitCodeFor(reportOf([{ skipped: "text" }, { error: "EACCES" }])), ExitCode.ScanFailed);
  });

  it("never returns 0 for a block verdict (fail closed)", () => {
    assert.equal(exitCodeFor({ ...reportOf([{}]), verdict: "block" }), ExitCode.Blocked);
  });
});

describe("progress line", () => {
  const progress = { filesDone: 1, filesTotal: 4, bytesDone: 2_000_000, bytesTotal: 8_000_000 };

  it("redraws at most ten times a second and clears itself", () => {
    let clock = 0;
    const writes: string[] = [];
    const line = progressLine({ write: (t) => writes.push(t), columns: 80 }, () => clock);
    line.update({ ...progress, current: "a.pt" });
    clock = 50;
    line.update({ ...progress, current: "b.pt" });
    clock = 150;
    line.update({ ...progress, filesDone: 2, current: "c.pt" });
    line.clear();
    assert.equal(writes.length, 3);
    assert.equal(writes[0], "\r\x1b[Kscanning 1/4 files, 2.0 MB of 8.0 MB [###.......]  a.pt");
    assert.match(writes[1]!, /2\/4 files.*c\.pt$/);
    assert.equal(writes[2], "\r\x1b[K");
  });

  it("fits one terminal row, keeping the end of a long path", () => {
    const writes: string[] = [];
    const line = progressLine({ write: (t) => writes.push(t), columns: 60 }, () => 0);
    line.update({ ...progress, current: `${"deep/".repeat(30)}model.pt` });
    const shown = writes[0]!.replace("\r\x1b[K", "");
    assert.ok(shown.length <= 59, shown);
    assert.match(shown, /^scanning 1\/4 files.*….*model\.pt$/);
  });
});

describe("the shipped bundle (package.json bin)", () => {
  const COMPILED = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
  const FIXTURES = fileURLToPath(new URL("../../test/fixtures/keras-repo", import.meta.url));
  /** A report with what varies between runs (times) taken out. */
  const stable = (json: string): unknown =>
    JSON.parse(json, (key, value: unknown) => (key === "durationMs" || key === "startedAt" || key === "finishedAt" ? undefined : value));
  const run = (main: string, ...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

  it("reports what the compiled modules report: HDF5 reader worker, scan threads, data files and all", () => {
    // Keras HDF5 files need the reader worker, --threads 2 the scan worker, pickles data/allowlist.json:
    // each is a separate file the bundle must find beside itself.
    const args = ["scan", FIXTURES, "--threads", "2", "--format", "json", "-q", "--no-progress"];
    const bundled = run(MAIN, ...args);
    const compiled = run(COMPILED, ...args);
    assert.equal(bundled.status, ExitCode.Blocked, bundled.stderr);
    assert.equal(compiled.status, ExitCode.Blocked, compiled.stderr);
    const report = stable(bundled.stdout) as ScanReport;
    assert.ok(report.files.some((f) => f.format === "keras-h5" && f.findings.some((x) => x.severity === "critical")), "a malicious HDF5 file is read and judged");
    assert.deepEqual(report, stable(compiled.stdout));
  });

  it("the package's main export (package.json exports) is bundled too and decides as the compiled modules do, threads included", async () => {
    // By the package's own name, as a user imports it (a variable: tsc would look for the build it is making).
    const name = "modelgate";
    const packaged = (await import(name)) as typeof Library;
    assert.notEqual(packaged.scanPaths, Library.scanPaths, "the package name resolves to the bundle, not to the compiled modules");
    const options = { threads: 2 };
    const decided = (r: ScanReport): unknown => stable(JSON.stringify(r.files));
    const [fromBundle, compiled] = [await packaged.scan(FIXTURES, options), await Library.scan(FIXTURES, options)];
    assert.ok(fromBundle.files.some((f) => f.format === "keras-h5" && f.verdict === "block"));
    assert.deepEqual(decided(fromBundle), decided(compiled));
  });

  it("compares pickle opcodes with numbers, not names: esbuild turns every top-level name into a var that V8 re-reads at each case", () => {
    const names = Array.from({ length: 256 }, (_, code) => opName(code)).filter((n) => !n.startsWith("0x"));
    const caseByName = new RegExp(`case (${names.join("|")})\\d*:`);
    for (const file of ["cli.cjs", "index.js", "scanWorker.js"]) {
      const text = readFileSync(join(dirname(MAIN), file), "utf8");
      assert.doesNotMatch(text, caseByName, file);
      assert.match(text, /case 82:/, `${file} holds the machine's switch (REDUCE is 0x52)`);
    }
  });

  it("prints the package version", () => {
    const r = run(MAIN, "--version");
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), run(COMPILED, "--version").stdout.trim());
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });
});
