/**
 * The callable judge. Its denylist must cover every global the public scanners flag (picklescan's
 * and ModelAudit's lists, as published): modelgate may be stricter than they are, never laxer.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { judge } from "../src/pickle/judge.js";

const PUBLIC_SCANNER_DANGEROUS: [string, string][] = [
  ["__builtin__", "eval"], ["__builtin__", "compile"], ["__builtin__", "getattr"], ["__builtin__", "apply"],
  ["__builtin__", "exec"], ["__builtin__", "open"], ["__builtin__", "breakpoint"], ["__builtin__", "execfile"],
  ["__builtin__", "raw_input"], ["__builtin__", "reload"],
  ["builtins", "eval"], ["builtins", "compile"], ["builtins", "getattr"], ["builtins", "exec"], ["builtins", "open"],
  ["builtins", "breakpoint"], ["builtins", "input"], ["builtins", "__import__"], ["builtins", "globals"],
  ["builtins", "locals"], ["builtins", "setattr"], ["builtins", "delattr"], ["builtins", "vars"], ["builtins", "dir"],
  ["__builtins__", "eval"],
  ["aiohttp", "request"], ["aiohttp.client", "ClientSession"], ["asyncio", "create_subprocess_shell"], ["bdb", "Bdb"],
  ["commands", "getoutput"], ["ctypes", "CDLL"], ["ctypes.util", "find_library"], ["functools", "reduce"],
  ["httplib", "HTTPSConnection"], ["numpy.f2py", "getlincoef"], ["numpy.testing._private.utils", "runstring"],
  ["nt", "system"], ["posix", "system"], ["operator", "attrgetter"], ["operator", "itemgetter"], ["operator", "methodcaller"],
  ["_operator", "attrgetter"], ["os", "system"], ["os", "popen"], ["requests.api", "get"], ["requests", "post"],
  ["runpy", "_run_code"], ["shutil", "rmtree"], ["socket", "create_connection"], ["ssl", "get_server_certificate"],
  ["subprocess", "Popen"], ["sys", "exit"], ["code", "InteractiveInterpreter.runcode"], ["cProfile", "run"],
  ["cProfile", "runctx"], ["distutils.file_util", "write_file"], ["doctest", "debug_script"], ["ensurepip", "_run_pip"],
  ["idlelib.autocomplete", "AutoComplete.get_entity"], ["idlelib.calltip", "get_entity"], ["idlelib.pyshell", "ModifiedInterpreter.runcode"],
  ["idlelib.run", "Executive.runcode"], ["lib2to3.pgen2.grammar", "Grammar.loads"], ["lib2to3.pgen2.pgen", "ParserGenerator.make_label"],
  ["pdb", "run"], ["pickle", "loads"], ["_pickle", "loads"], ["pip", "main"], ["pty", "spawn"], ["profile", "Profile.run"],
  ["pydoc", "pipepager"], ["pydoc", "locate"], ["timeit", "timeit"], ["timeit", "repeat"],
  ["torch._dynamo.guards", "GuardBuilder.get"], ["torch._inductor.codecache", "compile_file"],
  ["torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression"], ["torch.jit.unsupported_tensor_ops", "execWrapper"],
  ["torch.serialization", "load"], ["torch.utils._config_module", "ConfigModule.load_config"],
  ["torch.utils.bottleneck.__main__", "run_cprofile"], ["torch.utils.collect_env", "run"],
  ["torch.utils.data.datapipes.utils.decoder", "basichandlers"], ["trace", "Trace.run"], ["venv", "create"],
  ["webbrowser", "open"], ["importlib", "import_module"], ["importlib.machinery", "SourceFileLoader"], ["importlib.util", "spec_from_file_location"],
  ["base64", "b64decode"], ["codecs", "decode"], ["tempfile", "mktemp"], ["platform", "popen"], ["socket", "socket"], ["mmap", "mmap"],
  ["multiprocessing", "Process"], ["multiprocessing.pool", "Pool"], ["concurrent.futures", "ProcessPoolExecutor"], ["signal", "signal"],
  ["asyncio.subprocess", "create_subprocess_exec"], ["dill", "loads"], ["dill._dill", "_create_code"], ["pkgutil", "resolve_name"],
  ["zipimport", "zipimporter"], ["uuid", "_get_command_stdout"], ["uuid", "_popen"], ["smtplib", "SMTP"], ["xmlrpc.client", "ServerProxy"],
  ["poplib", "POP3"], ["imaplib", "IMAP4"], ["nntplib", "NNTP"], ["socketserver", "TCPServer"], ["codeop", "compile_command"],
  ["marshal", "loads"], ["compileall", "compile_dir"], ["py_compile", "compile"], ["_ctypes", "dlopen"], ["cloudpickle", "loads"],
  ["joblib", "load"], ["filecmp", "cmp"], ["pexpect", "spawn"], ["fileinput", "input"], ["glob", "glob"], ["_signal", "signal"],
  ["threading", "Thread"], ["_thread", "start_new_thread"], ["sqlite3", "connect"], ["_sqlite3", "connect"], ["select", "select"],
  ["selectors", "DefaultSelector"], ["logging.config", "dictConfig"], ["syslog", "syslog"], ["tarfile", "open"], ["zipfile", "ZipFile"],
  ["shelve", "open"], ["types", "CodeType"], ["types", "FunctionType"], ["ntpath", "expanduser"], ["posixpath", "expanduser"],
];

describe("judge", () => {
  test("every global the public scanners flag is denied (or an attribute walk), never allowed or merely unknown", () => {
    for (const [module, name] of PUBLIC_SCANNER_DANGEROUS) {
      const j = judge(module, name, { torchscript: false });
      assert.ok(j.kind === "deny" || j.kind === "walk", `${module}.${name} judged ${j.kind}`);
    }
  });

  test("Python 2 module names are judged as CPython's unpickler maps them", () => {
    assert.equal(judge("__builtin__", "eval", { torchscript: false }).kind, "deny");
    assert.equal(judge("copy_reg", "_reconstructor", { torchscript: false }).kind, "allow");
  });

  test("functools.partial is allowed only as a carrier: what it calls is judged (see test/pickle.test.ts)", () => {
    const j = judge("functools", "partial", { torchscript: false });
    assert.ok(j.kind === "allow" && j.entry?.calls !== undefined && j.entry.stateCalls?.includes(0), JSON.stringify(j));
  });

  test("exact generated names pass; no prefix or family admits a name the table does not list", () => {
    assert.equal(judge("torch._utils", "_rebuild_tensor_v2", { torchscript: false }).kind, "allow");
    assert.equal(judge("torch.nn.modules.linear", "Linear", { torchscript: false }).kind, "allow");
    assert.equal(judge("sklearn.linear_model._logistic", "LogisticRegression", { torchscript: false }).kind, "allow");
    assert.equal(judge("sklearn.datasets", "fetch_openml", { torchscript: false }).kind, "unknown");
    assert.equal(judge("sklearn.utils._testing", "TempMemmap", { torchscript: false }).kind, "unknown");
    // A CamelCase name under a library's module is not admitted by its shape (a re-exported stdlib class).
    assert.equal(judge("sklearn.utils", "GzipFile", { torchscript: false }).kind, "unknown");
    assert.equal(judge("torch.nn.modules", "TemporaryDirectory", { torchscript: false }).kind, "unknown");
  });

  test("Python 2 names are mapped pair by pair as CPython's _compat_pickle does", () => {
    const imap = judge("itertools", "imap", { torchscript: false });
    assert.equal(imap.kind, "unknown", "itertools.imap is builtins.map, which is not allowlisted");
    assert.equal(judge("__builtin__", "reduce", { torchscript: false }).kind, "deny", "__builtin__.reduce is functools.reduce");
  });

  test("TorchScript classes are allowed only in TorchScript archives", () => {
    assert.equal(judge("__torch__.torch.nn.modules.linear", "Linear", { torchscript: true }).kind, "allow");
    assert.equal(judge("__torch__.torch.nn.modules.linear", "Linear", { torchscript: false }).kind, "unknown");
  });

  test("dotted and dunder names walk attributes unless the exact path is allowed", () => {
    assert.deepEqual(judge("torch", "hub.load", { torchscript: false }).kind, "walk");
    assert.deepEqual(judge("collections", "__builtins__", { torchscript: false }).kind, "walk");
    assert.deepEqual(judge("numpy.__builtins__", "eval", { torchscript: false }).kind, "walk");
    assert.deepEqual(judge("torch", "_utils._rebuild_tensor_v2", { torchscript: false }).kind, "allow");
  });
});
