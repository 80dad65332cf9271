/** Rules for safetensors, GGUF and chat templates (ids MG200–MG229); merged into the catalogue. */
import type { RuleInfo } from "./catalogue.js";

const SAFETENSORS_SPEC = "https://github.com/huggingface/safetensors#format";
const GGUF_SPEC = "https://github.com/ggml-org/ggml/blob/master/docs/gguf.md";
const GGUF_OVERFLOWS = "https://nvd.nist.gov/vuln/detail/CVE-2024-25664";
const LLAMA_DRAMA = "https://nvd.nist.gov/vuln/detail/CVE-2024-34359";
const JINJA_SANDBOX = "https://jinja.palletsprojects.com/en/stable/sandbox/";

export const TENSOR_FORMAT_RULES = {
  MG200: {
    name: "safetensors-header-length",
    severity: "high",
    description:
      "The safetensors header length is impossible: the file is shorter than 8 bytes, or the declared length runs past the end of the file or exceeds the 100 MB the reference loader accepts (a header-size denial of service).",
    reference: SAFETENSORS_SPEC,
  },
  MG201: {
    name: "safetensors-header-not-json",
    severity: "high",
    description: "The safetensors header is not a UTF-8 JSON object; loaders refuse it or read it differently.",
    reference: SAFETENSORS_SPEC,
  },
  MG202: {
    name: "safetensors-duplicate-key",
    severity: "high",
    description:
      "A key appears twice in one object of the safetensors header: JSON parsers disagree on which value wins, so a scanner and a loader can see different tensors.",
    reference: "https://bishopfox.com/blog/json-interoperability-vulnerabilities",
  },
  MG203: {
    name: "safetensors-bad-tensor-info",
    severity: "high",
    description: "A tensor entry is malformed: not an object, an unknown dtype, a shape that is not a list of non-negative integers, or data_offsets that are not two integers.",
    reference: SAFETENSORS_SPEC,
  },
  MG204: {
    name: "safetensors-offsets-out-of-bounds",
    severity: "high",
    description: "A tensor's data_offsets end before they begin or reach past the end of the data section (out-of-bounds read on load).",
    reference: SAFETENSORS_SPEC,
  },
  MG205: {
    name: "safetensors-offsets-not-contiguous",
    severity: "high",
    description:
      "Tensor data ranges overlap, leave holes, or do not cover the data section exactly; the reference loader refuses such files, and hidden bytes can carry a payload for another reader.",
    reference: SAFETENSORS_SPEC,
  },
  MG206: {
    name: "safetensors-size-mismatch",
    severity: "high",
    description: "A tensor's byte range does not equal the product of its shape times its dtype size.",
    reference: SAFETENSORS_SPEC,
  },
  MG207: {
    name: "safetensors-bad-metadata",
    severity: "high",
    description: "__metadata__ is not an object mapping strings to strings, as the format requires.",
    reference: SAFETENSORS_SPEC,
  },
  MG208: {
    name: "safetensors-index-traversal",
    severity: "high",
    description:
      "A model.safetensors.index.json weight_map entry names a shard by an absolute path or a path that climbs out of the model folder: loading the model reads an arbitrary file.",
    reference: "https://huggingface.co/docs/transformers/big_models",
  },
  MG209: {
    name: "safetensors-index-malformed",
    severity: "high",
    description: "A model.safetensors.index.json is not a JSON object with a weight_map of tensor names to shard file names; its shards cannot be checked.",
    reference: "https://huggingface.co/docs/transformers/big_models",
  },
  MG210: {
    name: "gguf-malformed",
    severity: "high",
    description: "The GGUF header is malformed: unknown version, truncated, an unknown metadata value type, or an invalid general.alignment.",
    reference: GGUF_SPEC,
  },
  MG211: {
    name: "gguf-impossible-size",
    severity: "high",
    description:
      "A GGUF string length, array count, metadata count or tensor count cannot fit in the file; parsers that trust such values overflow their heap (the 2024 GGUF parser vulnerabilities).",
    reference: GGUF_OVERFLOWS,
  },
  MG212: {
    name: "gguf-limit-exceeded",
    severity: "high",
    description: "The GGUF header exceeded a bound of the analyser (header region size, array nesting, tensor dimensions, key length); the rest was not analysed.",
    reference: "https://cwe.mitre.org/data/definitions/400.html",
  },
  MG213: {
    name: "gguf-bad-tensor-info",
    severity: "high",
    description:
      "A GGUF tensor info is invalid: unknown ggml type, a dimension count or size out of range, a first dimension that is not a multiple of the type's block size, or a duplicate tensor name.",
    reference: GGUF_SPEC,
  },
  MG214: {
    name: "gguf-tensor-out-of-bounds",
    severity: "high",
    description: "A GGUF tensor's data reaches past the end of the file or overlaps another tensor's data (out-of-bounds read on load).",
    reference: GGUF_OVERFLOWS,
  },
  MG215: {
    name: "gguf-tensor-misaligned",
    severity: "high",
    description: "A GGUF tensor's data offset is not a multiple of general.alignment, which loaders rely on for mapping the data.",
    reference: GGUF_SPEC,
  },
  MG216: {
    name: "gguf-duplicate-key",
    severity: "high",
    description:
      "A GGUF metadata key appears twice as loaders read it, or holds a NUL or another control character (llama.cpp reads keys as C strings, so \"tokenizer.chat_template\\0\" is tokenizer.chat_template): loaders disagree on which value wins (llama.cpp takes the first, llama-cpp-python's metadata dict the last), so a second chat template can hide behind the first. Every value is checked.",
    reference: GGUF_SPEC,
  },
  MG217: {
    name: "gguf-shape-crash",
    severity: "high",
    description:
      "A GGUF tensor shape or name that crashes or corrupts real loaders: a zero dimension (ggml's gguf.cpp divides INT64_MAX by each dimension), an element count or byte size past int64/size_t (overflowed allocations), or a name of 64 bytes or more (GGML_MAX_NAME: older ggml truncated it, so two tensors collide).",
    reference: GGUF_OVERFLOWS,
  },
  MG218: {
    name: "gguf-metadata-read-wide",
    severity: "high",
    description:
      "A GGUF metadata value that llama.cpp reads through a raw pointer of a fixed width, per token (tokenizer.ggml.scores as float32, tokenizer.ggml.token_type as int32) or as uint32 (general.alignment, asserted), is declared with another element type or fewer elements than there are tokens: the loader reads past the array (heap over-read) or aborts.",
    reference: GGUF_OVERFLOWS,
  },
  MG220: {
    name: "chat-template-sandbox-escape",
    severity: "critical",
    description:
      "A chat template reaches private or dunder attributes (__class__, __globals__, __subclasses__…), by name, through a subscript whose key the template builds (concatenation, |join, |reverse, % or str.format, pieces of literals that hold \"_\", the text of a dict view or a generator, whose repr holds \"_\") or walks by render-time names, through |attr or an attribute-reading filter; uses a Jinja global (lipsum, cycler, joiner, namespace, range, dict…) other than by calling it, or self, config, request; or names os/sys/builtins: the server-side template injection that runs code when the template is rendered outside a sandbox (CVE-2024-34359, \"Llama Drama\").",
    reference: LLAMA_DRAMA,
  },
  MG221: {
    name: "chat-template-import",
    severity: "critical",
    description: "A chat template uses import, from … import, include or extends: it loads other templates or modules when rendered, which no chat template needs.",
    reference: JINJA_SANDBOX,
  },
  MG222: {
    name: "chat-template-unparseable",
    severity: "high",
    description: "A chat template does not parse as Jinja; it could not be checked, and template engines disagree on what it does.",
    reference: LLAMA_DRAMA,
  },
  MG223: {
    name: "chat-template-limit-exceeded",
    severity: "high",
    description: "A chat template exceeded a bound of the analyser (length or syntax nesting) and was not checked.",
    reference: "https://cwe.mitre.org/data/definitions/400.html",
  },
  MG224: {
    name: "safetensors-number-precision",
    severity: "high",
    description:
      "A number in the safetensors header is past 2^53 or not an integer literal (a fraction or exponent): JavaScript and other double-based readers round it, so they see different shapes or offsets than the reference loader, which reads exact 64-bit integers (or refuses).",
    reference: SAFETENSORS_SPEC,
  },
  MG225: {
    name: "safetensors-shape-overflow",
    severity: "high",
    description:
      "A safetensors tensor's element count (or its byte size) overflows 64 bits: loaders that multiply without checks allocate a wrapped-around, tiny buffer and write past it.",
    reference: SAFETENSORS_SPEC,
  },
} as const satisfies Record<string, RuleInfo>;
