/** Rules for Keras and repository-level checks (ids MG260–MG299); merged into the catalogue. */
import type { RuleInfo } from "./catalogue.js";

const KERAS_LAMBDA_CVE = "https://nvd.nist.gov/vuln/detail/CVE-2024-3660";
const KERAS_SAFE_MODE_CVE = "https://nvd.nist.gov/vuln/detail/CVE-2025-1550";
const TRUST_REMOTE_CODE = "https://huggingface.co/docs/transformers/models#custom-models";
const HYDRA_CVE = "https://nvd.nist.gov/vuln/detail/CVE-2025-23304";
const ST_MODULES = "https://sbert.net/docs/sentence_transformer/usage/custom_models.html";
const DIFFUSERS_CUSTOM = "https://huggingface.co/docs/diffusers/using-diffusers/custom_pipeline_overview";

export const KERAS_AND_REPO_RULES = {
  MG260: {
    name: "keras-lambda-layer",
    severity: "critical",
    description:
      "A Keras Lambda layer (or a serialized __lambda__ function) carries marshalled Python bytecode that runs when the model is loaded or called.",
    reference: KERAS_LAMBDA_CVE,
  },
  MG261: {
    name: "keras-foreign-module",
    severity: "high",
    description:
      "The Keras config names a module outside Keras and TensorFlow: loading imports it and instantiates what it names (the CVE-2025-1550 family of safe-mode bypasses).",
    reference: KERAS_SAFE_MODE_CVE,
  },
  MG262: {
    name: "keras-custom-object",
    severity: "low",
    description: "The Keras config uses a registered custom object (a layer, model, loss or function registered with register_keras_serializable): its code is not in the file and comes from the loading environment, which must register it; nothing is imported for it. Reported for the record.",
    reference: "https://keras.io/guides/serialization_and_saving/#custom-objects",
  },
  MG263: {
    name: "keras-dangerous-reference",
    severity: "critical",
    description:
      "The Keras config references a callable that the pickle rules deny (process execution, eval, file access, module import…), or a layer that opens a file its config names (TFSMLayer loads another SavedModel, a lookup layer reads any file as its vocabulary): loading the model calls it.",
    reference: KERAS_SAFE_MODE_CVE,
  },
  MG264: {
    name: "keras-config-unreadable",
    severity: "high",
    description: "The Keras model config is missing, not JSON, or exceeds a bound (size, nesting); the layers it describes were not checked.",
    reference: "https://keras.io/api/models/model_saving_apis/",
  },
  MG265: {
    name: "keras-h5-not-analysed",
    severity: "high",
    description: "The HDF5 file could not be read (corrupt, unsupported, or larger than the in-memory bound); its model config was not checked.",
    reference: KERAS_LAMBDA_CVE,
  },
  MG266: {
    name: "keras-torch-module",
    severity: "high",
    description:
      "A Keras TorchModuleWrapper layer carries a torch.save blob (base64 in its config) that Keras loads with torch.load(weights_only=False) when safe mode is off: unpickling it can run code. The blob itself is scanned as a member.",
    reference: "https://keras.io/api/layers/backend_specific_layers/torch_module_wrapper/",
  },
  MG267: {
    name: "keras-non-modeling-function",
    severity: "high",
    description:
      "The Keras config references a function inside Keras or TensorFlow that is not one of its modeling functions (activations, losses, metrics, tensor operations). Layers such as Lambda and Activation call function references with arguments taken from the config: the safe-mode bypasses after CVE-2025-1550 reached get_file, load_model and enable_unsafe_deserialization this way, and Keras's own list of refused functions is a deny list.",
    reference: "https://github.com/keras-team/keras/security/advisories",
  },
  MG268: {
    name: "keras-oversized-layers",
    severity: "high",
    description:
      "The Keras config (a .keras archive's config.json, an HDF5 file's model_config) builds layers whose weights (units, embeddings, filters and their inputs) take far more memory than the weights the archive or file ships: load_model allocates and initialises every layer before it reads the weights, so a small file can exhaust memory (a 15 KB .keras asked for 3.4 GB). Each layer counts at the widest input the config gives it: its build_config, its node's recorded shapes, or the shapes carried through the model as Keras builds it (Dense after Dense, a convolution's output flattened); normalization, attention, EinsumDense, depthwise and PReLU weights count too.",
    reference: "https://cwe.mitre.org/data/definitions/789.html",
  },
  MG270: {
    name: "repo-remote-code",
    severity: "high",
    description:
      "A configuration asks loaders to import Python code shipped with (or referenced by) the repository (auto_map / custom_pipelines): loading needs trust_remote_code=True and runs that code.",
    reference: TRUST_REMOTE_CODE,
  },
  MG271: {
    name: "repo-python-code",
    severity: "low",
    description:
      "The repository ships Python code. Loading the weights does not run it, unless a config makes a loader import it (auto_map, modules.json, model_index.json, a PEFT adapter_config.json's auto_mapping or megatron_core), a loader imports it by its fixed name (custom_generate/generate.py, torch.hub's hubconf.py, a diffusers custom pipeline's top-level pipeline.py), it is a module of a torch.package folder (one holding .data/extern_modules), or it sits at the top of the folder (a link too) named like a module that loading a model imports (numpy.py, sklearn/__init__.py, _loss.py, numbers.py, h5py.py, onnx.py) or like any standard library module a folder can replace (__future__.py, json/__init__.py, readline.py, sysconfig's _sysconfigdata_*.py), any package the allowlist covers or any module installed where models are made (gymnasium's farama_notifications), which Python started in the folder imports instead (also beside a model file scanned alone, and as a member of a zip, tar or 7z archive, once extracted): then it is high.",
    reference: TRUST_REMOTE_CODE,
  },
  MG272: {
    name: "repo-executable",
    severity: "low",
    description:
      "The repository ships a native executable or library (ELF, PE, Mach-O) or a script (shebang, shell, batch). Loading the weights does not run it, so it is low; a native module that a config makes loaders import (auto_map), or one at the top of the folder named like a module that loading a model imports (numpy.cpython-311-x86_64-linux-gnu.so), runs at load time and is high.",
    reference: "https://jfrog.com/blog/data-scientists-targeted-by-malicious-hugging-face-ml-models-with-silent-backdoor/",
  },
  MG273: {
    name: "repo-symlink-escape",
    severity: "high",
    description: "A symbolic link points outside the scanned folder: tools that follow it read (or serve) files that were never scanned, such as credentials.",
    reference: "https://cwe.mitre.org/data/definitions/61.html",
  },
  MG274: {
    name: "repo-prefer-safetensors",
    severity: "info",
    description: "A pickle-format weight file sits beside safetensors weights; loading the safetensors file avoids unpickling altogether.",
    reference: "https://huggingface.co/docs/safetensors/index",
  },
  MG275: {
    name: "repo-lfs-pointer",
    severity: "high",
    description: "The file is a Git LFS pointer, not the content it stands for: the real file (usually weights) was never downloaded, so it was not scanned.",
    reference: "https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md",
  },
  MG276: {
    name: "config-dangerous-target",
    severity: "critical",
    description:
      "A configuration names a callable to instantiate (Hydra/NeMo _target_) that the pickle rules deny or that walks attributes: instantiating the config calls it.",
    reference: HYDRA_CVE,
  },
  MG277: {
    name: "config-unknown-target",
    severity: "high",
    description:
      "A configuration names a callable to instantiate (Hydra/NeMo _target_) that is neither allowlisted nor a public path to an allowlisted class: instantiating it runs whatever it is.",
    reference: HYDRA_CVE,
  },
  MG278: {
    name: "config-not-analysed",
    severity: "high",
    description:
      "A configuration file could not be parsed or exceeded a bound (size, aliases, nesting, objects and lists, YAML values); the code references it may hold were not checked.",
    reference: "https://cwe.mitre.org/data/definitions/776.html",
  },
  MG279: {
    name: "config-yaml-python-tag",
    severity: "critical",
    description:
      "A YAML file uses python/* tags, which PyYAML's unsafe loaders act on: python/name imports a name, python/module imports a module, python/object and python/object/new construct a class and set its attributes, python/object/apply calls a function. Each tag's name is judged as the pickle rules judge the same operation: a denied name, an attribute walk, or dunder or unplain attribute keys are critical; a name not on the allowlist, a module import, or a call of a name allowlisted only to be stored are high; an allowlisted name used as allowed is low, for the record. Plain-data tags (python/tuple, python/none…) are not reported.",
    reference: "https://pyyaml.org/wiki/PyYAMLDocumentation",
  },
  MG280: {
    name: "repo-limit-exceeded",
    severity: "high",
    description: "The repository exceeded a bound of the folder walk (file count, depth); the rest was not checked.",
    reference: "https://cwe.mitre.org/data/definitions/400.html",
  },
  MG281: {
    name: "sentence-transformers-custom-module",
    severity: "high",
    description:
      "A sentence-transformers modules.json names a module type outside sentence_transformers (loading imports that module, or runs the repository's Python file that defines it), a Router config (router_config.json) names a route module type outside sentence_transformers (imported, and its load() called), or a CrossEncoder config names an activation function other than a torch.nn activation class (imported and called at load).",
    reference: ST_MODULES,
  },
  MG282: {
    name: "diffusers-custom-component",
    severity: "high",
    description:
      "A diffusers model_index.json (or a modular pipeline's modular_model_index.json type_hint) loads a component from a library other than diffusers/transformers (importlib imports it, or the component folder's Python file is run), or names a custom pipeline class from a repository file.",
    reference: DIFFUSERS_CUSTOM,
  },
  MG283: {
    name: "peft-foreign-library",
    severity: "high",
    description:
      "A PEFT adapter_config.json auto_mapping names a parent_library outside transformers/diffusers model modules (or a class that is not a plain name): AutoPeftModel imports that module and calls from_pretrained on what it names. Or a LoRA config sets megatron_config with a megatron_core other than Megatron's megatron.core: PEFT imports that module (from the adapter's folder when Python starts there: megatron/core_compat.py) when it loads the adapter.",
    reference: "https://huggingface.co/docs/peft/package_reference/auto_class",
  },
  MG284: {
    name: "serving-archive-code",
    severity: "high",
    description:
      "A TorchServe model archive (.mar, MAR-INF/MANIFEST.json) names Python code from the archive as its handler or model file, or a handler module that is not one of TorchServe's built-in handlers: TorchServe imports and runs it when the model is registered, and calls it for every request.",
    reference: "https://github.com/pytorch/serve/blob/master/docs/custom_service.md",
  },
  MG285: {
    name: "repo-loads-unscanned-path",
    severity: "high",
    description:
      "A shard index (weight_map), a diffusers model_index.json component or a sentence-transformers modules.json path or Router route makes the loader read a path the scan did not cover: inside a folder skipped by default (.venv, __pycache__, node_modules…), a path the ignore file or --exclude/--include left out, through a link to a folder (never followed), or outside the scanned folder.",
    reference: "https://huggingface.co/docs/transformers/main/en/big_models",
  },
} as const satisfies Record<string, RuleInfo>;

/**
 * Modules whose functions a Keras config may reference (`class_name: "function"`): the modeling
 * functions and pure tensor operations. Exact names: `keras.src.ops.core`, whose `cond`, `scan`
 * and `while_loop` call functions, and every utility module are left out on purpose.
 */
export const KERAS_FUNCTION_MODULES: ReadonlySet<string> = new Set([
  "keras.activations",
  "keras.losses",
  "keras.metrics",
  "keras.ops",
  "keras.src.activations.activations",
  "keras.src.losses.losses",
  "keras.src.metrics.accuracy_metrics",
  "keras.src.metrics.correlation_metrics",
  "keras.src.ops.image",
  "keras.src.ops.linalg",
  "keras.src.ops.math",
  "keras.src.ops.nn",
  "keras.src.ops.numpy",
  "tf_keras.activations",
  "tf_keras.losses",
  "tf_keras.metrics",
  "tensorflow.math",
  "tensorflow.nn",
]);

/**
 * Keras layers that open a file their config names when they are built (from_config): the config
 * key holding the path, what reading it does, and how bad that is. A vocabulary given as a list
 * stays in the config; only a string (a path) is read.
 */
export const KERAS_FILE_LAYERS: Readonly<Record<string, { key: string; does: string; severity: "critical" | "high" }>> = {
  TFSMLayer: { key: "filepath", does: "loads and runs the TensorFlow SavedModel at that path", severity: "critical" },
  StringLookup: { key: "vocabulary", does: "reads that file as its vocabulary (any file, then exposed by the model)", severity: "high" },
  IntegerLookup: { key: "vocabulary", does: "reads that file as its vocabulary (any file, then exposed by the model)", severity: "high" },
  TextVectorization: { key: "vocabulary", does: "reads that file as its vocabulary (any file, then exposed by the model)", severity: "high" },
};

/** Module roots a Keras config may name without a finding (the libraries that ship Keras layers). */
export const KERAS_MODULE_ROOTS: readonly string[] = ["keras", "tensorflow", "tf_keras", "keras_nlp", "keras_hub", "keras_cv"];

/**
 * Functions inside Keras itself that a config must not reach: the published safe-mode bypasses
 * after CVE-2025-1550 used them (download files, switch safe mode off, load another model).
 * Keyed by the function's own name, whatever Keras module path leads to it.
 */
export const KERAS_DANGEROUS_FUNCTIONS: Readonly<Record<string, string>> = {
  get_file: "downloads a file and writes it to disk (CVE-2025-8747 family)",
  enable_unsafe_deserialization: "switches Keras safe mode off, so Lambda bytecode then runs (CVE-2025-9906)",
  load_model: "loads another model, possibly with safe mode off",
  load_weights: "reads another file from disk",
};
