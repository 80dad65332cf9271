/**
 * Real detonations: bubblewrap, strace and Debian's loaders (python3-torch, -sklearn, -joblib, -numpy;
 * .ci/run installs them). Never skipped: a machine where the jail cannot be built fails here first.
 * Malicious fixtures are caught by what their load does; benign ones show nothing dangerous; escapes
 * are checked from the host; bombs end with a reason. No timing is asserted: the time limits are the
 * sandbox's own, and the only wall-clock bound is node:test's generous per-test watchdog.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startGateway } from "../src/gateway/server.js";
import { defaultPolicy } from "../src/policy/policy.js";
import { detonate } from "../src/sandbox/detonate.js";
import { findTools, probeJail } from "../src/sandbox/jail.js";
import { atLeast, type SandboxEvent, type SandboxResult } from "../src/types.js";
import { FakeHub } from "./support/fakeHub.js";
import { machineLock } from "./support/machineLock.js";
import { MAIN } from "./support/cli.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const at = (path: string): string => join(ROOT, path);
/** Per-test watchdog: far above a load's real cost, only there so a hang fails instead of blocking CI. */
const WATCHDOG = { timeout: 180_000 };
/** Two loads at once: the machine's two cores. */
const PAIRS = { concurrency: 2 };

function dangerous(r: SandboxResult): SandboxEvent[] {
  return r.events.filter((e) => atLeast(e.severity, "high"));
}

function explain(r: SandboxResult): string {
  return `${r.status}${r.reason ? ` (${r.reason})` : ""}: ${r.events.map((e) => `${e.severity} ${e.source} ${e.message}`).join("; ")}`;
}

describe("the jail on this machine", () => {
  it("finds bwrap, strace and Debian's Python, and bubblewrap builds the sandbox", WATCHDOG, async () => {
    const tools = await findTools();
    await probeJail(tools);
  });
});

/**
 * Malicious fixtures whose load acts — starts a process, reaches the network, writes a file, runs a
 * string of code, loads native code — with the kind of behaviour it must be caught by: one or more per
 * threat class. The others act only when used (a Timer never started, a coroutine never awaited, Popen
 * made by __new__ alone, compile without exec), or the real loader fails or stops before the payload
 * (names that do not exist on Linux or in Python 3, wrong signatures, a payload after STOP, a
 * TorchScript archive PyTorch 1.13 refuses, dill and cloudpickle not installed): static analysis
 * blocks them, and their load, truthfully, shows nothing dangerous. The survey that sorted them is
 * in the README (Sandbox).
 */
const LOAD_TIME_ACTORS: [file: string, kind: SandboxEvent["kind"]][] = [
  ["examples/reverse_shell.pkl", "process"],
  ["examples/malicious_model.bin", "process"],
  ["examples/nullifai_broken.pkl", "process"],
  ["examples/weights.safetensors", "process"],
  ["test/fixtures/malicious/p01_posix_system_proto0.pkl", "process"],
  ["test/fixtures/malicious/p01_posix_system_proto0_text.pkl", "process"],
  ["test/fixtures/malicious/p01_builtins_eval_proto4.pkl", "code"],
  ["test/fixtures/malicious/p01_builtins_getattr_proto4.pkl", "process"],
  ["test/fixtures/malicious/p01_os_execv_proto4.pkl", "process"],
  ["test/fixtures/malicious/p01_os_popen_proto4.pkl", "process"],
  ["test/fixtures/malicious/p01_pty_spawn_proto4.pkl", "process"],
  ["test/fixtures/malicious/p01_runpy_run_code_proto4.pkl", "code"],
  ["test/fixtures/malicious/p01_subprocess_check_output_proto4.pkl", "process"],
  ["test/fixtures/malicious/p02_ctypes_cdll.pkl", "native"],
  ["test/fixtures/malicious/p02_io_open_write.pkl", "file-write"],
  ["test/fixtures/malicious/p02_os_remove.pkl", "file-write"],
  ["test/fixtures/malicious/p02_socket_create_connection.pkl", "network"],
  ["test/fixtures/malicious/p02_urllib_urlopen.pkl", "network"],
  ["test/fixtures/malicious/p03_functools_partial_proto4.pkl", "process"],
  ["test/fixtures/malicious/p04_stack_global_codecs_rot13.pkl", "process"],
  ["test/fixtures/malicious/p05_build_setstate_ordereddict.pkl", "process"],
  ["test/fixtures/malicious/p06_pickle_loads.pkl", "process"],
  ["test/fixtures/malicious/p12_joblib_raw.joblib", "process"],
  ["test/fixtures/malicious/p12_joblib_zlib.joblib", "process"],
  ["test/fixtures/malicious/p12_gzip.pkl.gz", "process"],
  ["test/fixtures/malicious/p17_deep_marks.pkl", "process"],
  ["test/fixtures/malicious/p13_npy_object_system.npy", "process"],
  ["test/fixtures/malicious/p13_npz_object.npz", "process"],
  ["test/fixtures/malicious/p14_legacy_object_pickle.pt", "process"],
  ["test/fixtures/malicious/p16_memo_slot_reuse.pkl", "process"],
  ["test/fixtures/malicious/p16_build_overwrites_module_attr.pkl", "process"],
];

describe("malicious fixtures that act at load time are caught by behaviour", PAIRS, () => {
  for (const [file, kind] of LOAD_TIME_ACTORS) {
    it(`${file}: ${kind}`, WATCHDOG, async () => {
      const r = await detonate(at(file));
      assert.equal(r.status, "dangerous", `${file}: ${explain(r)}`);
      assert.ok(dangerous(r).some((e) => e.kind === kind), `${file}: no ${kind} event at high or worse: ${explain(r)}`);
    });
  }

  it("a program started by the load is seen by strace as well as by the audit hook", WATCHDOG, async () => {
    const r = await detonate(at("examples/reverse_shell.pkl"));
    const processes = r.events.filter((e) => e.kind === "process" && e.severity === "critical");
    assert.ok(processes.some((e) => e.source === "audit" && /os\.system/.test(e.message)), explain(r));
    assert.ok(processes.some((e) => e.source === "strace" && /executes \/bin\/sh \[sh -c echo modelgate-fixture\]/.test(e.message)), explain(r));
  });
});

/**
 * The held-out allowlist-composition attacks (scripts/redteam/make_attacks.py): chains of allowlisted
 * callables that carry an unknown one. Every chain whose payload runs during the load is caught by what
 * the load does, whatever carried it. The rest do nothing at load time here, and their load must not
 * be called dangerous either (the list is kept honest both ways):
 */
const INERT_AT_LOAD: Record<string, string> = {
  "defaultdict_factory_partial.pkl": "the factory runs on a missing key, when the model is used",
  "defaultdict_factory_unknown.pkl": "the factory runs on a missing key, when the model is used",
  "partial_build_state_swap.pkl": "the swapped partial runs when called, after the load",
  "module_forward_override.pkl": "the replaced forward runs when the model is called",
  "module_forward_hook_unknown.pkl": "the hook runs when the model is called",
  "starmap_list_builtins_print.pkl": "prints",
  "starmap_list_frozen_importlib__gcd_import.pkl": "imports a module",
  "starmap_list_sklearn_utils_discovery_import_module.pkl": "imports a module",
  "iter_sentinel_partial.pkl": "the loader fails before the payload",
  "numpy_random_bit_generator_ctor_class.pkl": "NumPy refuses the class before using it",
  "reconstructor_gzip_reexport.pkl": "reads /etc/hostname, which the jail does not have: the loader fails",
  "starmap_list_pstats_Stats.pkl": "reads /etc/hostname, which the jail does not have: the loader fails",
  "starmap_list_scipy_io_loadmat.pkl": "reads /etc/hostname, which the jail does not have: the loader fails",
  "starmap_list_modelgate_redteam_nolib_payload_run.pkl": "the module exists nowhere",
  "starmap_list_numpy_lib__npyio_impl_load.pkl": "a NumPy 2 name; Debian's NumPy 1.24 does not have it",
  "starmap_list_sklearn_datasets_dump_svmlight_file.pkl": "called with the wrong arguments: the loader fails",
};
const REDTEAM_MANIFEST = JSON.parse(readFileSync(at("test/fixtures/redteam/manifest.json"), "utf8")) as { file: string; expect: string }[];
const COMPOSITION = REDTEAM_MANIFEST.filter((e) => e.file.startsWith("redteam/composition/") && e.expect === "block").map((e) => `test/fixtures/${e.file}`);

describe("held-out allowlist-composition attacks", PAIRS, () => {
  it("the corpus is there, and every inert entry is in it", () => {
    assert.ok(COMPOSITION.length >= 50, String(COMPOSITION.length));
    for (const name of Object.keys(INERT_AT_LOAD)) assert.ok(COMPOSITION.some((f) => f.endsWith(`/${name}`)), name);
  });
  for (const file of COMPOSITION) {
    const inert = INERT_AT_LOAD[file.slice(file.lastIndexOf("/") + 1)];
    it(`${file}${inert ? ` (inert at load: ${inert})` : ""}`, WATCHDOG, async () => {
      const r = await detonate(at(file));
      if (inert === undefined) assert.equal(r.status, "dangerous", `${file}: ${explain(r)}`);
      else assert.notEqual(r.status, "dangerous", `${file} is listed as inert but its load was dangerous: ${explain(r)}`);
    });
  }
});

const BENIGN = [
  "examples/safe_array.npy",
  "examples/safe_classifier.joblib",
  "examples/safe_model.pt",
  "test/fixtures/benign/pytorch_model.bin",
  "test/fixtures/benign/torch_checkpoint_adam.pt",
  "test/fixtures/benign/torch_legacy_format.pt",
  "test/fixtures/benign/torch_quantized.pt",
  "test/fixtures/benign/sklearn_rf.joblib",
  "test/fixtures/benign/sklearn_columntransformer_gzip.joblib",
  "test/fixtures/benign/sklearn_logreg_xz.joblib",
  "test/fixtures/benign/joblib_numpy_arrays.joblib",
  "test/fixtures/benign/numpy_object_plain.npy",
  "test/fixtures/benign/python_containers_proto5.pkl",
];

describe("benign fixtures show nothing dangerous", PAIRS, () => {
  for (const file of BENIGN) {
    it(file, WATCHDOG, async () => {
      const r = await detonate(at(file));
      assert.equal(r.status, "clean", `${file}: ${explain(r)}`);
      assert.deepEqual(dangerous(r), []);
    });
  }
});

// The paths and port scripts/make_sandbox_fixtures.py wrote into the escape fixtures.
const HOST_MARKER = "/var/tmp/modelgate-sandbox-escape-marker";
const HOST_SECRET = "/var/tmp/modelgate-sandbox-secret";
const LOOPBACK_PORT = 47193;
const ORPHAN_SLEEP = "sleep 987654";

/** Command lines of the host's processes (all of them: the jail's PID namespace is a subset). */
function hostProcesses(): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim());
    } catch {
      // Gone meanwhile.
    }
  }
  return lines;
}

/**
 * A copy of a fixture under a name no other run uses, so that looking for its leftover processes
 * (the jail's inner Python names the model by its base name) sees this run's only, even when another
 * copy of the suite detonates the same fixture at the same time.
 */
function uniqueCopy(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), "modelgate-bomb-"));
  const copy = join(dir, `${basename(fixture, ".pkl")}-${process.pid}-${basename(dir).slice(-6)}.pkl`);
  writeFileSync(copy, readFileSync(at(fixture)));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return copy;
}

describe("escapes are contained", () => {
  let server: Server;
  let connections = 0;
  // The fixtures name a fixed port and fixed host paths: another copy of the suite waits its turn.
  let release: () => void = () => undefined;
  before(async () => {
    release = await machineLock("sandbox-escapes");
    rmSync(HOST_MARKER, { force: true });
    writeFileSync(HOST_SECRET, "modelgate-host-secret\n");
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(LOOPBACK_PORT, "127.0.0.1", resolve));
  });
  after(() => {
    server?.close();
    rmSync(HOST_SECRET, { force: true });
    rmSync(HOST_MARKER, { force: true });
    release();
  });

  it("a write outside /tmp is refused and seen, and the host file is not created", WATCHDOG, async () => {
    const r = await detonate(at("test/fixtures/sandbox/escape_write_host.pkl"));
    assert.equal(existsSync(HOST_MARKER), false);
    assert.equal(r.status, "dangerous", explain(r));
    assert.ok(dangerous(r).some((e) => e.kind === "file-write" && e.severity === "critical" && e.message.includes(HOST_MARKER)), explain(r));
  });

  it("a connection to the host's loopback never arrives, and is seen", WATCHDOG, async () => {
    const r = await detonate(at("test/fixtures/sandbox/escape_network.pkl"));
    assert.equal(connections, 0);
    assert.equal(r.status, "dangerous", explain(r));
    assert.ok(dangerous(r).some((e) => e.kind === "network" && e.source === "strace" && e.message.includes(String(LOOPBACK_PORT))), explain(r));
  });

  it("keys and the host's files are not there to read; the attempts are seen", WATCHDOG, async () => {
    const r = await detonate(at("test/fixtures/sandbox/escape_read_secrets.pkl"));
    assert.equal(r.status, "dangerous", explain(r));
    const reads = r.events.filter((e) => e.kind === "file-read" && e.severity === "high").map((e) => e.message);
    assert.ok(reads.some((m) => m.includes("/home/sandbox/.ssh/id_rsa")), explain(r));
    assert.ok(reads.some((m) => m.includes("/root/.ssh/id_rsa")), explain(r));
    // The secret is outside the jail: the payload printed nothing it could have sent.
    const cli = spawnSync(process.execPath, [MAIN, "sandbox", at("test/fixtures/sandbox/escape_read_secrets.pkl"), "--format", "json"], { encoding: "utf8" });
    assert.equal(cli.status, 1, cli.stderr);
    assert.ok(!cli.stdout.includes("modelgate-host-secret"));
  });

  it("a process left behind dies with the load", WATCHDOG, async () => {
    const r = await detonate(at("test/fixtures/sandbox/escape_orphan_process.pkl"));
    assert.equal(r.status, "dangerous", explain(r));
    assert.ok(r.events.some((e) => e.source === "strace" && e.message.includes(ORPHAN_SLEEP)), explain(r));
    assert.deepEqual(hostProcesses().filter((cmd) => cmd.includes(ORPHAN_SLEEP)), []);
  });
});

describe("bombs end cleanly", () => {
  it("a sleeping payload is stopped at the time limit: exit 2 with the reason, no process left", WATCHDOG, async () => {
    const bomb = uniqueCopy("test/fixtures/sandbox/bomb_sleep.pkl");
    const r = await detonate(bomb, { timeoutSeconds: 5 });
    assert.equal(r.status, "failed", explain(r));
    assert.match(r.reason ?? "", /did not finish within 5 s/);
    assert.deepEqual(hostProcesses().filter((cmd) => cmd.includes(basename(bomb))), []);
  });

  it("a spinning payload is stopped by the CPU or the time limit", WATCHDOG, async () => {
    const bomb = uniqueCopy("test/fixtures/sandbox/bomb_cpu.pkl");
    const r = await detonate(bomb, { timeoutSeconds: 5 });
    // exec of a string is itself dangerous; what matters is that it ended and said why.
    assert.notEqual(r.status, "clean", explain(r));
    assert.match(r.reason ?? "", /did not finish within 5 s|CPU time/);
    assert.deepEqual(hostProcesses().filter((cmd) => cmd.includes(basename(bomb))), []);
  });

  it("an allocating payload hits the memory limit", WATCHDOG, async () => {
    const r = await detonate(at("test/fixtures/sandbox/bomb_memory.pkl"), { memoryMb: 1024 });
    assert.match(r.reason ?? "", /ran out of memory \(limit 1024 MiB\)/, explain(r));
  });
});

describe("modelgate sandbox and scan --sandbox", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

  it("exits 1 with the events, 0 for a benign file, 2 with the reason when the loader is not installed", WATCHDOG, () => {
    const bad = cli("sandbox", at("examples/reverse_shell.pkl"));
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stdout, /DANGEROUS/);
    assert.match(bad.stdout, /critical \[strace\] executes \/bin\/sh/);
    const good = cli("sandbox", at("examples/safe_array.npy"));
    assert.equal(good.status, 0, good.stdout + good.stderr);
    const keras = cli("sandbox", "--loader", "keras", at("examples/safe_array.npy"), "--format", "json");
    assert.equal(keras.status, 2, keras.stdout);
    const report = JSON.parse(keras.stdout) as { schema: string; files: SandboxResult[] };
    assert.equal(report.schema, "modelgate.sandbox/v1");
    assert.match(report.files[0]?.reason ?? "", /keras loader is not installed/);
  });

  it("refuses without bubblewrap rather than loading outside it (exit 2, the reason)", WATCHDOG, () => {
    const r = spawnSync(process.execPath, [MAIN, "sandbox", at("examples/reverse_shell.pkl")], { encoding: "utf8", env: { ...process.env, PATH: "/nonexistent" } });
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stdout, /bubblewrap \(bwrap\) is not installed/);
    assert.doesNotMatch(r.stdout, /executes/);
  });

  it("scan --sandbox adds each file's dynamic result and an info MG172 where static analysis blocks an inert load", WATCHDOG, () => {
    // threading.Timer is imported and built, never started: static analysis blocks it, the load does nothing.
    const inert = at("test/fixtures/malicious/p02_threading_timer.pkl");
    const r = cli("scan", "--sandbox", "--format", "json", at("examples/reverse_shell.pkl"), inert);
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { files: { path: string; sandbox?: SandboxResult; findings: { rule: string; severity: string }[] }[] };
    const shell = report.files.find((f) => f.path.endsWith("reverse_shell.pkl"));
    const timer = report.files.find((f) => f.path.endsWith("p02_threading_timer.pkl"));
    assert.equal(shell?.sandbox?.status, "dangerous");
    assert.ok(!shell?.findings.some((f) => f.rule === "MG172"), "static and dynamic agree: no MG172");
    assert.equal(timer?.sandbox?.status, "clean");
    assert.deepEqual(timer?.findings.filter((f) => f.rule === "MG172").map((f) => f.severity), ["info"]);
    assert.match(r.stderr, /sandbox: .*reverse_shell\.pkl \(joblib\) dangerous/);
  });

  it("serve --sandbox loads each fetched pickle in the sandbox before deciding: the dynamic result is in the audit record", WATCHDOG, async () => {
    const hub = await FakeHub.start();
    const store = mkdtempSync(join(tmpdir(), "modelgate-serve-sandbox-"));
    hub.add("acme/inert", "model.pkl", readFileSync(at("test/fixtures/benign/cloudpickle_plain.pkl")));
    hub.add("acme/inert", "timer.pkl", readFileSync(at("test/fixtures/malicious/p02_threading_timer.pkl")));
    const gw = await startGateway({ upstream: new URL(hub.hubUrl), host: "127.0.0.1", port: 0, policy: defaultPolicy(), state: "memory", storeDir: store, sandbox: {} });
    try {
      assert.equal((await fetch(`${gw.url}/acme/inert/resolve/main/model.pkl`)).status, 200);
      assert.equal((await fetch(`${gw.url}/acme/inert/resolve/main/timer.pkl`)).status, 403);
      const records = readFileSync(join(store, "audit.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { target: string; verdict: string; sandbox?: string });
      assert.deepEqual(
        records.map((r) => [r.target.replace(/.*\//, ""), r.verdict, r.sandbox]),
        [["model.pkl", "pass", "clean"], ["timer.pkl", "block", "clean"]],
      );
    } finally {
      await gw.close();
      await hub.close();
      rmSync(store, { recursive: true, force: true });
    }
  });
});
