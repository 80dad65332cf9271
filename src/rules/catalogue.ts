/**
 * The rule catalogue: every finding the scanner can produce, with its stable id, default severity,
 * a description a person understands and a reference. Reports, SARIF rule metadata and the README
 * derive from this one table, so an id is never typed twice by hand.
 */
import type { Severity } from "../types.js";
import { GRAPH_FORMAT_RULES } from "./graphFormats.js";
import { KERAS_AND_REPO_RULES } from "./kerasAndRepo.js";
import { MODEL_FORMAT_RULES } from "./modelFormats.js";
import { TENSOR_FORMAT_RULES } from "./tensorFormats.js";

export interface RuleInfo {
  /** Short kebab-case name, shown beside the id. */
  name: string;
  severity: Severity;
  description: string;
  reference: string;
}

const PICKLE_DOCS = "https://docs.python.org/3/library/pickle.html";
const PICKLETOOLS = "https://docs.python.org/3/library/pickletools.html";

/** Bumped whenever a rule or the callable lists change, so caches and lockfiles know to rescan. */
export const RULES_VERSION = "2026.12.3";

/** Pickle, archive and engine rules (MG1xx); other formats add theirs from their own tables. */
const CORE_RULES = {
  MG100: {
    name: "pickle-dangerous-callable",
    severity: "critical",
    description:
      "The pickle imports or calls a callable known to be dangerous at load time (process execution, eval/exec, file or network access, module import, nested deserialization, code construction).",
    reference: PICKLE_DOCS,
  },
  MG101: {
    name: "pickle-unknown-callable",
    severity: "high",
    description:
      "The pickle calls a callable that is not on the allowlist of callables known to be safe for loading models, directly or through an allowlisted callable that calls its argument, or puts a class allowlisted never to be called where Python could call it unseen: held by a partial or wrapped hook, stored as an attribute or inside an attribute's containers (a __setstate__ calling the method the attribute shadows, or iterating a dict whose key it is, would call it), handed to a callee as an argument its entry does not describe, or set as an item of a mapping object that serves items as attributes. Unknown callables are how denylist-only scanners get bypassed.",
    reference: "https://arxiv.org/abs/2508.19774",
  },
  MG102: {
    name: "pickle-unknown-class",
    severity: "high",
    description:
      "The pickle imports, or constructs without calling it, a class or object that is not on the allowlist. Whatever a pickle imports can end up invoked (iterated by a container, handed to a library that calls it, set as state the model's code calls), so an unknown import can run code.",
    reference: PICKLE_DOCS,
  },
  MG103: {
    name: "pickle-non-constant-import",
    severity: "critical",
    description:
      "A STACK_GLOBAL import whose module or name is not a constant string (built by a call, or of the wrong type): the imported callable cannot be known statically.",
    reference: PICKLETOOLS,
  },
  MG104: {
    name: "pickle-attribute-walk",
    severity: "critical",
    description:
      "An import whose name walks attributes (dotted or dunder names such as numpy.__builtins__ or a module's os attribute) to reach something that is not itself allowlisted.",
    reference: "https://github.com/mmaitre314/picklescan/security/advisories",
  },
  MG105: {
    name: "pickle-extension-registry",
    severity: "high",
    description:
      "EXT1/EXT2/EXT4 opcodes import a callable through the copyreg extension registry, which a static scanner cannot resolve.",
    reference: "https://docs.python.org/3/library/copyreg.html",
  },
  MG106: {
    name: "pickle-build-on-import",
    severity: "critical",
    description:
      "BUILD (or a function that sets attributes, such as torch's _set_obj_state) is applied to an imported module, class or function (not an instance), or sets dunder attributes or attributes whose names cannot be checked (a key made at load time, a mapping built at load time, keys past what the scanner keeps): it overwrites attributes of code the loader trusts, or plants a __setstate__ that the next BUILD calls. Also BUILD on an object already given a state, or given items under keys made at load time, and the name __setstate__ anywhere in the stream as data: BUILD calls whatever looking __setstate__ up on the object returns, and a class with a __getattr__ that forwards, or that serves items or a dict attribute as attributes, answers with what the object holds (pickle writes one BUILD per object, and no library pickles that name as data). The same holds for a BUILD on an object made with arguments whose class has no __setstate__ and forwards attribute lookups (the allowlist's forwards flag: numpy's Arrayterator, SciPy's _RichResult), and for APPEND(S) and ADDITEMS on an object after some item was stored under the name append, extend or add, or under a key made at load time: pickle looks those methods up on the object.",
    reference: PICKLETOOLS,
  },
  MG107: {
    name: "pickle-call-on-result",
    severity: "high",
    description:
      "The pickle calls the result of another call or an attribute fetched at load time, directly or through an allowlisted function that calls its argument: the callee is produced dynamically and cannot be checked against the allowlist (an object's __call__ is not something the allowlist covers). Also a carrier (a function that calls or constructs what it is given, such as copyreg._reconstructor) stored as an attribute: a __setstate__ calling the method the attribute shadows would run it on arguments the scanner never sees. And a state function that sets attributes past the object's own __setstate__ (dill's _create_array, torch's _set_obj_state and _rebuild_from_type) given anything but the arrays and tensors it exists for. Also slot state (the second item of a BUILD state) given to an object that holds a name whose call must be seen (one never to be called, a torch module class, one that opens a file or allocates by its arguments, a carrier): setattr runs the class's property setters, which may call what the object holds with the value. And such a class handed to an allowlisted class as an argument its entry does not describe (an iterator or __setitem__ of what it makes may call it).",
    reference: "https://github.com/trailofbits/fickling",
  },
  MG108: {
    name: "pickle-convention-misuse",
    severity: "high",
    description:
      "getattr (or dill's _load_type) is used outside the narrow conventions it is allowed for: getattr may fetch an allowlisted method of an allowlisted class or of an instance one made, an allowlisted enum's member, or a builtin data type's method that only computes a value (not str.format, whose fields walk attributes, nor one that changes the object, such as dict.update); _load_type a builtin data type or PartialType (functools.partial); nothing else.",
    reference: "https://arxiv.org/abs/2508.19774",
  },
  MG109: {
    name: "pickle-resource-bomb",
    severity: "high",
    description:
      "Allowlisted calls alone would exhaust the loader: a huge allocation (bytearray, bytes, a NumPy array's shape, a torch layer's sizes or those of a class the allowlist marks as allocating by its integers, torch's legacy tensor and storage types), a huge power of ten (a Fraction string's exponent), a long text through a codec whose time is quadratic (punycode, idna), a huge range consumed by a container at load time, a size or text made at load time by int-making calls, codecs or text methods past the bounds (and a size given as anything that converts with __index__: an IntFlag, NumPy's and python-flint's integer types, a 0-d array or one-element tensor, whose value the scanner does not read), a gymnasium space's state whose _shape __setstate__ allocates past the bound, a Decimal with a huge exponent handed to a call, an integer past 2**18 bits (or a Fraction's or Decimal's text past 80,000 characters) that a call converts in quadratic time, a shared structure that a comparison, str() or hash() walks exponentially, or dict keys and set items chosen to share one CPython hash (ints equal modulo 2**61 - 1, tuples built to collide, also around a text they all hold in one place, pandas Intervals), which makes each insertion compare with every earlier one.",
    reference: "https://cwe.mitre.org/data/definitions/400.html",
  },
  MG110: {
    name: "pickle-broken-stream",
    severity: "high",
    description:
      "The pickle stream is truncated or malformed. Everything up to the break was analysed; loaders execute opcodes before they fail (nullifAI), so the break itself blocks.",
    reference: "https://www.reversinglabs.com/blog/rl-identifies-malware-ml-model-hosted-on-hugging-face",
  },
  MG111: {
    name: "pickle-limit-exceeded",
    severity: "high",
    description: "The pickle hit a resource bound of the analyser (stack, memo, marks, line length, opcode count); the rest was not analysed.",
    reference: "https://cwe.mitre.org/data/definitions/400.html",
  },
  MG112: {
    name: "pickle-malformed-operand",
    severity: "high",
    description:
      "An opcode has an operand of the wrong type or an impossible value (negative or huge length, unhashable memo key, missing MARK) that crashes scanners which then fail open.",
    reference: PICKLETOOLS,
  },
  MG113: {
    name: "pickle-trailing-data",
    severity: "low",
    description: "Bytes follow the last STOP opcode and do not form a pickle; loaders ignore them, but they can hide a payload for another reader.",
    reference: PICKLETOOLS,
  },
  MG114: {
    name: "pickle-multiple-streams",
    severity: "info",
    description: "Several pickle streams are stored back to back; every one of them was analysed.",
    reference: PICKLETOOLS,
  },
  MG120: {
    name: "torch-tensor-out-of-bounds",
    severity: "high",
    description:
      "A tensor's size, stride or storage offset reaches past the end of its storage (CVE-2026-24747 class: out-of-bounds memory access on load).",
    reference: "https://github.com/pytorch/pytorch/security/advisories",
  },
  MG121: {
    name: "torchscript-code",
    severity: "low",
    description: "The archive is TorchScript and carries code that runs when it is loaded with torch.jit.load (and, on older PyTorch, with torch.load).",
    reference: "https://nvd.nist.gov/vuln/detail/CVE-2025-32434",
  },
  MG122: {
    name: "torchscript-dangerous-code",
    severity: "high",
    description: "TorchScript code calls operators that read or write files or reach Python at load time.",
    reference: "https://nvd.nist.gov/vuln/detail/CVE-2025-32434",
  },
  MG123: {
    name: "torch-storage-mismatch",
    severity: "high",
    description: "A PyTorch checkpoint references a storage that is missing, or declares storage sizes that do not fit the file.",
    reference: "https://pytorch.org/docs/stable/notes/serialization.html",
  },
  MG124: {
    name: "pickle-structure-out-of-bounds",
    severity: "high",
    description:
      "A structure a library trusts once loaded is inconsistent: a SciPy sparse matrix whose index arrays point outside its shape or data (compiled routines then read and write out of bounds; any csr, csc, coo, bsr or lil class or base class, however copyreg makes it and however its state spells the attributes), the class of tensors that reach past their storage, an Arrow array (pyarrow's _restore_array) whose buffers are shorter than its type and length need, whose offsets or dictionary indices point outside its data, or whose layout cannot be checked (a type whose layout is not checked, parts that are not written in the pickle, offsets past the bound on what is read back): pyarrow does not validate it, and reading it reads heap memory or crashes; or a scikit-learn tree restored unchecked: a Tree (decision trees, forests, gradient boosting) whose node_count is not its node array's length, whose children are neither a leaf's -1 nor a later node nor each a child of one node only, whose split features are outside its n_features or whose depth passes its max_depth, a histogram gradient-boosting TreePredictor whose children are not later nodes or whose categorical splits read past its bitsets, a KDTree or BallTree whose idx_array points outside its data or whose nodes point outside idx_array or node_data, a t-SNE _QuadTree whose cells' children or parents are neither -1 nor a later cell, whose cell_count passes its cells, or that has more than 3 dimensions or no cells, or a SciPy cKDTree (KDTree, NearestNDInterpolator's tree) whose node buffer is not whole 72-byte nodes, whose nodes' children are not later nodes each a child of one node only, whose split dimensions are outside its m or whose index ranges pass its n, whose indices are not a permutation of its points, or whose data, bounds and indices are not float64 and int64 of its n and m, or one whose arrays cannot be checked (not written in the pickle, of a dtype not understood): its compiled loops read and write memory at those indices.",
    reference: "https://docs.scipy.org/doc/scipy/reference/sparse.html",
  },
  MG125: {
    name: "pickle-executed-state",
    severity: "critical",
    description:
      "The pickle restores an object whose __setstate__ executes part of the restored state as Python source (SciPy distributions exec() their _parse_arg_template), and that part is not what the library itself writes: loading runs it.",
    reference: "https://github.com/scipy/scipy/blob/main/scipy/stats/_distn_infrastructure.py",
  },
  MG126: {
    name: "torchscript-flatbuffer",
    severity: "high",
    description:
      "A TorchScript module saved as a flatbuffer (torch.jit.save_jit_module_to_flatbuffer, PyTorch Mobile): torch.jit.load and the lite interpreter run its code and operators, which modelgate does not read, so it is not checked.",
    reference: "https://nvd.nist.gov/vuln/detail/CVE-2025-32434",
  },
  MG127: {
    name: "torch-package-code",
    severity: "high",
    description:
      "A torch.package archive (a zip with .data/extern_modules) carries Python modules: PackageImporter imports a pickled global's module from the archive's own source unless the extern list names it, so loading runs that code whatever the name, one the allowlist accepts included.",
    reference: "https://pytorch.org/docs/stable/package.html",
  },
  MG130: {
    name: "extension-mismatch",
    severity: "medium",
    description:
      "The file's extension names a different format than its content (e.g. a pickle named .safetensors or .txt). Loaders decide by content or by caller, so names must not be trusted.",
    reference: "https://jfrog.com/blog/unveiling-3-zero-day-vulnerabilities-in-picklescan/",
  },
  MG131: {
    name: "format-ambiguous",
    severity: "high",
    description:
      "The content is valid as more than one format (a polyglot), or loaders read the same bytes differently (a STOP inside a FRAME, joblib array bytes that other loaders run as opcodes, gzip members joblib does not read): different loaders read different things, and each reading was scanned.",
    reference: "https://github.com/trailofbits/polyfile",
  },
  MG140: {
    name: "archive-limit-exceeded",
    severity: "high",
    description: "An archive or compressed layer exceeded a bound (nesting depth, member count, decompressed size, compression ratio); the rest was not analysed.",
    reference: "https://cwe.mitre.org/data/definitions/409.html",
  },
  MG141: {
    name: "archive-member-unreadable",
    severity: "high",
    description: "An archive member or compressed layer could not be read (encrypted, unsupported method, corrupt); its content was not analysed.",
    reference: "https://nvd.nist.gov/vuln/detail/CVE-2025-1944",
  },
  MG142: {
    name: "archive-path-traversal",
    severity: "high",
    description:
      "An archive member's name is absolute or climbs out of the extraction folder (zip slip), or a link member (tar symbolic or hard link, zip entry marked S_IFLNK) points there, directly or through other links: extraction then writes or reads through it outside the folder.",
    reference: "https://security.snyk.io/research/zip-slip-vulnerability",
  },
  MG143: {
    name: "archive-duplicate-member",
    severity: "high",
    description: "Two archive members share a name; loaders disagree on which one wins, so both were scanned.",
    reference: "https://nvd.nist.gov/vuln/detail/CVE-2025-10156",
  },
  MG144: {
    name: "zip-header-mismatch",
    severity: "medium",
    description:
      "A zip member's local header disagrees with the central directory (name, method or sizes), or the archive has data outside its members; tools that read different headers see different content.",
    reference: "https://nvd.nist.gov/vuln/detail/CVE-2025-1945",
  },
  MG150: {
    name: "numpy-object-array",
    severity: "low",
    description: "A NumPy array of dtype=object stores a pickle after its header; np.load runs it when allow_pickle=True.",
    reference: "https://numpy.org/doc/stable/reference/generated/numpy.load.html",
  },
  MG151: {
    name: "numpy-malformed",
    severity: "high",
    description: "A NumPy .npy header is malformed or declares more data than the file holds.",
    reference: "https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html",
  },
  MG160: {
    name: "scan-internal-error",
    severity: "high",
    description: "The analyser failed on this content; it is never reported clean after an internal error.",
    reference: "https://github.com/modelgate/modelgate",
  },
  MG170: {
    name: "clamav-signature",
    severity: "critical",
    description: "ClamAV (clamd, with --clamav or the policy's clamav key) matched a virus signature in the file or in an archive member it unpacked; the finding names the signature.",
    reference: "https://docs.clamav.net/manual/Signatures.html",
  },
  MG171: {
    name: "clamav-not-checked",
    severity: "high",
    description: "ClamAV could not check the whole file: it is larger than the ClamAV size limit (max_size, or clamd's StreamMaxLength), or clamd hit one of its own scan limits (Heuristics.Limits.Exceeded).",
    reference: "https://docs.clamav.net/manual/Usage/Configuration.html",
  },
  MG172: {
    name: "sandbox-disagrees",
    severity: "critical",
    description:
      "Loading the file in the sandbox (scan --sandbox) disagrees with the static verdict: the load did something dangerous that static analysis let pass (critical), or static analysis blocks a file whose load showed nothing dangerous (info: a payload may wait, or act only when the model is used).",
    reference: "https://docs.python.org/3/library/audit_events.html",
  },
} as const satisfies Record<string, RuleInfo>;

export const RULES = { ...CORE_RULES, ...TENSOR_FORMAT_RULES, ...GRAPH_FORMAT_RULES, ...KERAS_AND_REPO_RULES, ...MODEL_FORMAT_RULES } as const;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];

export function ruleInfo(id: RuleId): RuleInfo {
  return RULES[id];
}
