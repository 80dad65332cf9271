/**
 * Rules for ONNX and TensorFlow (ids MG230–MG259); merged into the catalogue. The op and domain
 * tables the scanners judge by live here too, so a reviewer finds the data beside the rules it feeds.
 */
import type { RuleInfo } from "./catalogue.js";

const ONNX_IR = "https://onnx.ai/onnx/repo-docs/IR.html";
const ONNX_EXTERNAL = "https://onnx.ai/onnx/repo-docs/ExternalData.html";
const TF_SECURITY = "https://github.com/tensorflow/tensorflow/blob/master/SECURITY.md";
const TFLITE_SCHEMA = "https://github.com/tensorflow/tensorflow/blob/master/tensorflow/compiler/mlir/lite/schema/schema.fbs";

export const GRAPH_FORMAT_RULES = {
  MG230: {
    name: "onnx-external-data-traversal",
    severity: "high",
    description:
      "An ONNX tensor stores its data in an external file whose location is absolute or climbs out of the model's folder: loading the model reads (and with onnx.save, writes) an arbitrary file (CVE-2024-27318, CVE-2024-27319).",
    reference: "https://nvd.nist.gov/vuln/detail/CVE-2024-27318",
  },
  MG231: {
    name: "onnx-external-data-incomplete",
    severity: "medium",
    description:
      "An ONNX tensor is marked data_location=EXTERNAL without a location, or names several different locations (onnx reads the last): loaders disagree on where its data comes from.",
    reference: ONNX_EXTERNAL,
  },
  MG232: {
    name: "onnx-custom-domain",
    severity: "medium",
    description:
      "ONNX nodes use an operator domain that is neither an ONNX standard domain, an ONNX Runtime built-in domain, nor a function defined in the model: running it needs a custom-op library (native code) registered by the loader.",
    reference: ONNX_IR,
  },
  MG233: {
    name: "onnx-malformed",
    severity: "high",
    description: "The file was recognised as ONNX but does not decode as a ModelProto with a graph; it was not analysed, and loaders may read it differently.",
    reference: ONNX_IR,
  },
  MG234: {
    name: "graph-limit-exceeded",
    severity: "high",
    description: "An ONNX or TensorFlow graph exceeded a bound of the analyser (file size, nesting of subgraphs, operator count); the rest was not analysed.",
    reference: "https://cwe.mitre.org/data/definitions/674.html",
  },
  MG235: {
    name: "onnx-python-op",
    severity: "high",
    description:
      "ONNX nodes have an op type that runs Python (PythonOp from torch.onnx's export of custom autograd functions, ONNX Runtime's PythonOp/PythonOpGrad, onnxruntime-extensions' PyOp), in whatever domain: a runtime with a Python op registered calls into Python code the model's loader supplies or the model names.",
    reference: "https://pytorch.org/docs/stable/onnx_torchscript.html",
  },
  MG240: {
    name: "tf-python-callback",
    severity: "critical",
    description: "The TensorFlow graph calls back into Python (PyFunc, PyFuncStateless, EagerPyFunc): arbitrary Python code runs when the graph executes.",
    reference: TF_SECURITY,
  },
  MG241: {
    name: "tf-filesystem-op",
    severity: "high",
    description:
      "The TensorFlow graph contains an op that reads, writes, lists or memory-maps files or reaches the network (ReadFile, WriteFile, MatchingFiles, PrintV2 to file://, file readers, dataset caches, writers and snapshots, summary and debug writers, tf.data service…), or a checkpoint or vocabulary op whose path is a constant of the graph (or a default the SavedModel stores for a function's argument) rather than the loader's: running the model touches the file system or the network.",
    reference: TF_SECURITY,
  },
  MG242: {
    name: "tf-checkpoint-io",
    severity: "low",
    description:
      "The TensorFlow graph saves or restores checkpoints or reads vocabulary assets (SaveV2, RestoreV2, MergeV2Checkpoints, InitializeTableFromTextFileV2…) on a path that starts from what the loader feeds (the saver's filename, an asset). Every SavedModel has these; reported for the record. The same ops on a path the graph holds itself are MG241.",
    reference: "https://www.tensorflow.org/guide/saved_model",
  },
  MG243: {
    name: "tf-malformed",
    severity: "high",
    description: "The file was recognised as a TensorFlow SavedModel (binary or text format) or TFLite model but does not decode (truncated, offsets out of bounds, no meta graph, text the reader cannot read with certainty); it was not analysed.",
    reference: "https://github.com/tensorflow/tensorflow/blob/master/tensorflow/core/protobuf/saved_model.proto",
  },
  MG250: {
    name: "tflite-custom-op",
    severity: "medium",
    description: "The TFLite model uses custom operators: the interpreter runs them only with a native kernel registered by the application (or, for Flex ops, through TensorFlow itself).",
    reference: TFLITE_SCHEMA,
  },
} as const satisfies Record<string, RuleInfo>;

type GraphRuleId = keyof typeof GRAPH_FORMAT_RULES;

/**
 * ONNX operator domains whose kernels ship inside the runtime, so a model cannot bring its own code
 * through them: the ONNX standard domains ("" is the default ai.onnx), and the domains ONNX Runtime
 * implements natively (com.microsoft contrib ops appear in every ORT-optimised transformer).
 * Deliberately absent: org.pytorch.aten (ATen fallback dispatches into PyTorch at run time) and
 * every other domain, which needs a custom-op library registered by the loader.
 */
export const ONNX_KNOWN_DOMAINS: Readonly<Record<string, true>> = {
  "": true,
  "ai.onnx": true,
  "ai.onnx.ml": true,
  "ai.onnx.training": true,
  "ai.onnx.preview.training": true,
  "com.microsoft": true,
  "com.microsoft.nchwc": true,
  "com.microsoft.experimental": true,
  "com.microsoft.dml": true,
  "com.ms.internal.nhwc": true,
};

/**
 * ONNX op types that mean "call into Python", judged in every domain (torch.onnx exports custom
 * autograd functions as PythonOp under prim, ORT training under com.microsoft; other writers pick
 * their own domain). A TensorFlow py_func kept by a converter keeps its TF name.
 */
export const ONNX_PYTHON_OPS: Readonly<Record<string, true>> = {
  PythonOp: true,
  PythonOpGrad: true,
  PyOp: true,
  PyFunc: true,
  PyFuncStateless: true,
  EagerPyFunc: true,
};

/** Why a TensorFlow op is reported; keyed by op name (as in NodeDef.op). */
export interface TfOpClass {
  rule: Extract<GraphRuleId, "MG240" | "MG241" | "MG242">;
  why: string;
  /**
   * For checkpoint and vocabulary ops (MG242): the inputs that carry the path. Low only while each
   * path starts from what the loader feeds; a path the graph spells out itself is MG241.
   */
  pathInputs?: readonly number[];
}

const py = (why: string): TfOpClass => ({ rule: "MG240", why });
const fs = (why: string): TfOpClass => ({ rule: "MG241", why });
const net = (why: string): TfOpClass => ({ rule: "MG241", why: `${why}: network access` });
const ckpt = (why: string, ...pathInputs: number[]): TfOpClass => ({ rule: "MG242", why, pathInputs });

/**
 * TensorFlow ops judged by name: every op registered in TensorFlow 2.21 (tf.raw_ops) that touches
 * files, directories, the network or Python, named by family with their Experimental and V2/V3
 * variants. Checkpoint ops are low, not high, only where the loader chooses their path:
 * tf.saved_model.save writes SaveV2/RestoreV2/MergeV2Checkpoints into every SavedModel's saver
 * functions, fed from the saver's filename argument, and vocabulary-table initialisers read the
 * model's assets through a function argument (TF2) or an asset tensor the loader feeds (TF1). The
 * same ops on a path the graph holds as a constant read or write any file (a red team copied a
 * secret with InitializeTableFromTextFileV2 and wrote checkpoints with SaveV2), so the scanner
 * raises them to MG241 (tensorflow.ts, loaderFedPath).
 */
export const TF_OP_CLASSES: Readonly<Record<string, TfOpClass>> = {
  PyFunc: py("runs a Python callable"),
  PyFuncStateless: py("runs a Python callable"),
  EagerPyFunc: py("runs a Python callable eagerly"),

  ReadFile: fs("reads a whole file"),
  WriteFile: fs("writes a file"),
  MatchingFiles: fs("lists files by glob"),
  MatchingFilesDataset: fs("lists files by glob"),
  ExperimentalMatchingFilesDataset: fs("lists files by glob"),
  ImmutableConst: fs("memory-maps a file"),
  FileSystemSetConfiguration: fs("reconfigures a file system"),
  PrintV2: fs("prints to output_stream, which may be file://… (appends to any file)"),
  WholeFileReader: fs("reads files"),
  WholeFileReaderV2: fs("reads files"),
  TextLineReader: fs("reads files"),
  TextLineReaderV2: fs("reads files"),
  FixedLengthRecordReader: fs("reads files"),
  FixedLengthRecordReaderV2: fs("reads files"),
  TFRecordReader: fs("reads files"),
  TFRecordReaderV2: fs("reads files"),
  LMDBReader: fs("reads an LMDB database"),
  RecordInput: fs("reads files matching a glob"),
  TextLineDataset: fs("reads files"),
  TFRecordDataset: fs("reads files"),
  TFRecordDatasetV2: fs("reads files"),
  FixedLengthRecordDataset: fs("reads files"),
  FixedLengthRecordDatasetV2: fs("reads files"),
  CSVDataset: fs("reads files"),
  CSVDatasetV2: fs("reads files"),
  ExperimentalCSVDataset: fs("reads files"),
  LMDBDataset: fs("reads an LMDB database"),
  ExperimentalLMDBDataset: fs("reads an LMDB database"),
  SqlDataset: fs("opens a SQLite database file"),
  ExperimentalSqlDataset: fs("opens a SQLite database file"),
  CacheDataset: fs("writes and reads cache files at a path"),
  CacheDatasetV2: fs("writes and reads cache files at a path"),
  LoadDataset: fs("reads a saved dataset"),
  SaveDataset: fs("writes a dataset to files"),
  SaveDatasetV2: fs("writes a dataset to files"),
  SnapshotDataset: fs("writes dataset snapshots to files"),
  SnapshotDatasetV2: fs("writes dataset snapshots to files"),
  SnapshotDatasetReader: fs("reads dataset snapshot files"),
  SnapshotChunkDataset: fs("reads a snapshot chunk file"),
  ListSnapshotChunksDataset: fs("lists snapshot chunk files"),
  DistributedSave: fs("writes a dataset snapshot to a directory through a tf.data service (network access)"),
  DatasetToTFRecord: fs("writes a TFRecord file"),
  ExperimentalDatasetToTFRecord: fs("writes a TFRecord file"),
  CreateSummaryFileWriter: fs("writes event files"),
  CreateSummaryDbWriter: fs("writes a SQLite database file"),
  DebugIdentity: fs("dumps tensors to debug_urls (file://)"),
  DebugIdentityV2: fs("dumps tensors to a dump directory"),
  DebugIdentityV3: fs("dumps tensors to debug_urls (file://)"),
  DebugNanCount: fs("dumps tensors to debug_urls (file://)"),
  DebugNumericSummary: fs("dumps tensors to debug_urls (file://)"),
  DecodeProtoV2: fs("reads a descriptor file named by descriptor_source"),
  EncodeProto: fs("reads a descriptor file named by descriptor_source"),
  LoadAndRemapMatrix: fs("reads a checkpoint file named by a tensor"),
  GenerateVocabRemapping: fs("reads vocabulary files named by tensors"),
  // A dataset graph serialised in a tensor is rebuilt and run: its ops were never seen here.
  DatasetFromGraph: fs("rebuilds and runs a dataset graph held in a tensor, which was not analysed"),

  DataServiceDataset: net("reads from a tf.data service at an address"),
  DataServiceDatasetV2: net("reads from a tf.data service at an address"),
  DataServiceDatasetV3: net("reads from a tf.data service at an address"),
  DataServiceDatasetV4: net("reads from a tf.data service at an address"),
  RegisterDataset: net("sends a dataset graph to a tf.data service at an address"),
  RegisterDatasetV2: net("sends a dataset graph to a tf.data service at an address"),
  RemoteCall: net("runs a function on another task"),

  Save: ckpt("writes a checkpoint", 0),
  SaveV2: ckpt("writes a checkpoint", 0),
  SaveSlices: ckpt("writes a checkpoint", 0),
  Restore: ckpt("reads a checkpoint", 0),
  RestoreV2: ckpt("reads a checkpoint", 0),
  RestoreSlice: ckpt("reads a checkpoint", 0),
  MergeV2Checkpoints: ckpt("merges checkpoint shards and deletes them", 0, 1),
  InitializeTableFromTextFile: ckpt("reads a text file into a lookup table", 1),
  InitializeTableFromTextFileV2: ckpt("reads a text file into a lookup table", 1),
};
