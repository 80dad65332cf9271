/**
 * The sandbox's judgement, without a sandbox: strace lines and audit events as the jail produces them,
 * the loader chosen by content, and the MG172 disagreement between static and dynamic verdicts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { judgeAudit } from "../src/sandbox/audit.js";
import { insideName, JAIL } from "../src/sandbox/jail.js";
import { loaderForFormat, sniffFile } from "../src/sandbox/loaders.js";
import { disagreement } from "../src/sandbox/secondOpinion.js";
import { StraceReader } from "../src/sandbox/strace.js";
import { sandboxExitCode } from "../src/cli/sandbox.js";
import type { SandboxResult, ScannedFile } from "../src/types.js";

const MARKER = `[pid 7] 1796172570.300000 access("${JAIL.loadStartMarker}", F_OK) = -1 ENOENT (No such file or directory)`;

function readAll(lines: string[]) {
  const reader = new StraceReader();
  return lines.map((l) => reader.read(l)).filter((e) => e !== undefined);
}

describe("strace record", () => {
  it("ignores everything before the harness's start marker (bwrap and Python starting)", () => {
    const events = readAll([
      `1796172570.100000 execve("/usr/bin/bwrap", ["bwrap"], 0x0 /* 5 vars */) = 0`,
      `[pid 7] 1796172570.200000 openat(AT_FDCWD, "/proc/self/uid_map", O_WRONLY|O_CLOEXEC) = 4`,
    ]);
    assert.deepEqual(events, []);
  });

  it("reports a program started during the load as critical, with its arguments", () => {
    const events = readAll([MARKER, `[pid 9] 1796172571.000000 execve("/bin/sh", ["sh", "-c", "echo modelgate-fixture"], 0x2 /* 6 vars */) = 0`]);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.event.severity, "critical");
    assert.equal(events[0]?.event.kind, "process");
    assert.match(events[0]?.event.message ?? "", /executes \/bin\/sh \[sh -c echo modelgate-fixture\]/);
    assert.equal(events[0]?.time, 1796172571);
  });

  it("joins a call strace split across lines (unfinished … resumed)", () => {
    const events = readAll([
      MARKER,
      `[pid 9] 1796172571.000000 connect(5, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("10.0.0.1")}, 16 <unfinished ...>`,
      `[pid 8] 1796172571.000100 openat(AT_FDCWD, "/usr/lib/python3.11/x.pyc", O_RDONLY|O_CLOEXEC) = 3`,
      `[pid 9] 1796172571.000200 <... connect resumed>) = -1 ENETUNREACH (Network is unreachable)`,
    ]);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.event.kind, "network");
    assert.equal(events[0]?.event.severity, "critical");
    assert.match(events[0]?.event.message ?? "", /10\.0\.0\.1.*failed: ENETUNREACH/);
  });

  it("tells a write in the private scratch space (high) from one outside it (critical), and skips /dev/null", () => {
    const events = readAll([
      MARKER,
      `[pid 9] 1796172571.1 openat(AT_FDCWD, "/tmp/x", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3`,
      `[pid 9] 1796172571.2 openat(AT_FDCWD, "/etc/cron.d/x", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = -1 EROFS (Read-only file system)`,
      `[pid 9] 1796172571.3 openat(AT_FDCWD, "/dev/null", O_WRONLY|O_CLOEXEC) = 4`,
      `[pid 9] 1796172571.4 unlink("/home/sandbox/.bashrc") = -1 ENOENT (No such file or directory)`,
    ]);
    assert.deepEqual(
      events.map((e) => [e.event.severity, e.event.kind]),
      [["high", "file-write"], ["critical", "file-write"], ["high", "file-write"]],
    );
    assert.match(events[1]?.event.message ?? "", /\/etc\/cron\.d\/x \(failed: EROFS/);
  });

  it("reports reads of secrets, not of the Python installation", () => {
    const events = readAll([
      MARKER,
      `[pid 9] 1796172571.1 openat(AT_FDCWD, "/usr/lib/python3.11/os.py", O_RDONLY|O_CLOEXEC) = 3`,
      `[pid 9] 1796172571.2 openat(AT_FDCWD, "/root/.ssh/id_rsa", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)`,
      `[pid 9] 1796172571.3 openat(AT_FDCWD, "/proc/self/environ", O_RDONLY) = 3`,
    ]);
    assert.deepEqual(events.map((e) => e.event.severity), ["high", "high"]);
    assert.ok(events.every((e) => e.event.kind === "file-read"));
  });

  it("ignores lines that are not system calls (signals, exits, other messages)", () => {
    assert.deepEqual(readAll([MARKER, "[pid 9] 1796172571.1 --- SIGCHLD {si_signo=SIGCHLD} ---", "bwrap: Creating new namespace failed"]), []);
  });
});

describe("audit events", () => {
  it("judges process, network and code events by name", () => {
    assert.equal(judgeAudit({ event: "os.system", time: 1, args: "(b'id',)" })?.severity, "critical");
    assert.equal(judgeAudit({ event: "subprocess.Popen", time: 1, args: "('ls',)" })?.kind, "process");
    assert.equal(judgeAudit({ event: "socket.connect", time: 1 })?.severity, "critical");
    assert.equal(judgeAudit({ event: "exec", time: 1 })?.severity, "high");
    assert.equal(judgeAudit({ event: "ctypes.dlopen", time: 1, args: "('libc.so.6',)" })?.kind, "native");
    assert.equal(judgeAudit({ event: "sys.addaudithook", time: 1 })?.kind, "tamper");
  });

  it("does not count ast.literal_eval's parse (NumPy's header reader) as code", () => {
    assert.equal(judgeAudit({ event: "compile", time: 1, astParse: true, args: "b\"{'descr': '<f4'}\"" }), undefined);
    assert.equal(judgeAudit({ event: "compile", time: 1, astParse: false, args: "b'1+1'" })?.severity, "medium");
  });

  it("notes what the pickle imports: info for model classes, medium for process and code modules", () => {
    assert.equal(judgeAudit({ event: "pickle.find_class", time: 1, target: "torch._utils._rebuild_tensor_v2" })?.severity, "info");
    assert.equal(judgeAudit({ event: "pickle.find_class", time: 1, target: "posix.system" })?.severity, "medium");
    assert.equal(judgeAudit({ event: "pickle.find_class", time: 1, target: "builtins.eval" })?.severity, "medium");
    assert.equal(judgeAudit({ event: "pickle.find_class", time: 1, target: "builtins.set" })?.severity, "info");
  });

  it("judges writes by where they land", () => {
    assert.equal(judgeAudit({ event: "open", time: 1, path: "/tmp/a", write: true })?.severity, "high");
    assert.equal(judgeAudit({ event: "open", time: 1, path: "/srv/a", write: true })?.severity, "critical");
    assert.equal(judgeAudit({ event: "os.remove", time: 1, args: "('/etc/passwd', -1)" })?.severity, "critical");
    assert.equal(judgeAudit({ event: "open", time: 1, path: "/usr/lib/python3.11/os.py", write: false }), undefined);
  });
});

describe("loader choice", () => {
  it("chooses by the sniffed content, not the name", async () => {
    assert.equal(loaderForFormat(await sniffFile("examples/weights.safetensors")), "joblib"); // a pickle named .safetensors
    assert.equal(loaderForFormat(await sniffFile("examples/malicious_model.bin")), "torch");
    assert.equal(loaderForFormat(await sniffFile("examples/safe_array.npy")), "numpy");
    assert.equal(loaderForFormat(await sniffFile("test/fixtures/benign/numpy_savez.npz")), "numpy");
    assert.equal(loaderForFormat(await sniffFile("examples/chat_template_exploit.gguf")), undefined);
  });

  it("names the model inside the jail by a plain base name", () => {
    assert.equal(insideName("/a/b/model.pt"), "model.pt");
    assert.equal(insideName("/a/b/../$(rm -rf)\n.pkl"), "__rm_-rf__.pkl");
    assert.equal(insideName("/a/.hidden"), "_hidden");
  });
});

describe("static and dynamic verdicts", () => {
  const file: ScannedFile = { path: "m.pkl", format: "pickle", size: 1, findings: [], bytesRead: 1 };
  const result = (status: SandboxResult["status"]): SandboxResult => ({
    status,
    loader: "joblib",
    events: status === "dangerous" ? [{ source: "strace", severity: "critical", kind: "process", message: "executes /bin/sh", evidence: "execve" }] : [],
    durationMs: 1,
  });

  it("a dangerous load of a file static analysis passed is a critical MG172", () => {
    const finding = disagreement(file, "pass", result("dangerous"));
    assert.equal(finding?.rule, "MG172");
    assert.equal(finding?.severity, "critical");
    assert.match(finding?.evidence ?? "", /strace: executes \/bin\/sh/);
  });

  it("a blocked file whose load showed nothing dangerous is an info MG172", () => {
    assert.equal(disagreement(file, "block", result("clean"))?.severity, "info");
  });

  it("agreement, or a load that did not finish, is no finding", () => {
    assert.equal(disagreement(file, "block", result("dangerous")), undefined);
    assert.equal(disagreement(file, "pass", result("clean")), undefined);
    assert.equal(disagreement(file, "pass", result("failed")), undefined);
  });

  it("exit codes: dangerous beats failed beats clean", () => {
    assert.equal(sandboxExitCode([result("clean"), result("failed"), result("dangerous")]), 1);
    assert.equal(sandboxExitCode([result("clean"), result("failed")]), 2);
    assert.equal(sandboxExitCode([result("clean")]), 0);
  });
});
