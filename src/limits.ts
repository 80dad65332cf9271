/**
 * Every bound the scanner enforces on hostile input, in one frozen object.
 * Hitting any of them is reported as a finding (rule MG111 or MG140), never a crash or a silent pass.
 */
export const LIMITS = Object.freeze({
  /** Symbolic stack depth of the pickle machine (CWE-400: a stream of pushes exhausting memory). */
  pickleMaxStack: 1_000_000,
  /** Memo entries (CWE-400: memo flooding; also bounds PUT with huge keys). */
  pickleMaxMemo: 16_000_000,
  /** Memo entries kept whole; past this, values are memoized as placeholders (bounds memory on dense pickles; see Machine.compacted). */
  pickleMemoRetainAll: 100_000,
  /** Past pickleMemoRetainAll, about how many bytes of values (other than plain data) the memo still keeps. */
  pickleMemoKeepBytes: 16 * 1024 * 1024,
  /** Memo keys far from the dense run of keys, kept in a map (CWE-400: a map entry costs ~80 bytes). */
  pickleMaxScatteredMemoKeys: 1_000_000,
  /** Nested MARK depth (CWE-674: unbounded recursion / mark stack growth). */
  pickleMaxMarks: 4_000_000,
  /** Items a symbolic container remembers; further items are counted, not kept (CWE-400). */
  pickleContainerSample: 64,
  /** Longest str/bytes constant kept in memory; longer payloads are skipped by seeking (CWE-789). */
  pickleMaxInlineConstant: 64 * 1024,
  /**
   * Bits of an integer past which what a call does with it (Fraction's gcd, Decimal(int), seeding a
   * random generator) takes time that grows with their square: some 0.1 s here, minutes at a few
   * megabytes (CWE-407). Such an integer given to a call or in a state is MG109.
   */
  pickleMaxNumberBits: 2 ** 18,
  /** Largest bytes constant handed to the nested-pickle scan (nested deserializer payloads, P6). */
  pickleMaxNestedPayload: 256 * 1024 * 1024,
  /**
   * Bytes skipped unread that are read back to check one pickled structure (an Arrow array's offsets,
   * a scikit-learn tree's nodes), held in memory together (CWE-789).
   */
  readBackMaxBytes: 256 * 1024 * 1024,
  /** Bytes read back to check pickled structures, per file (CWE-400: a forest of large trees is read once). */
  readBackMaxTotal: 4 * 1024 * 1024 * 1024,
  /** Pickled structures per file whose check waits for bytes to be read back (CWE-400; a forest holds a tree per estimator). */
  readBackMaxPending: 100_000,
  /**
   * Longest line accepted by text opcodes (GLOBAL, INT, STRING…) (CWE-400: a line that never ends).
   * CPython has none; protocol 0 writes a NumPy array's bytes or a long str as one escaped line
   * (np.zeros(10000) is 480 kB). Decoding a line's escapes takes some 50 bytes of memory per byte,
   * so a red team's 16 MiB lines cost 0.8 GB each: 1 MiB holds what picklers write of that kind.
   */
  pickleMaxLine: 1024 * 1024,
  /** Pickle streams read back to back from one file or member (P8: several pickles, data after STOP). */
  pickleMaxStreams: 64,
  /** Distinct imported names tracked per pickle; more are counted as one limit finding (CWE-400). */
  pickleMaxDistinctGlobals: 10_000,
  /** Largest allocation an allowlisted call may ask for: bytearray(n), bytes(n) (CWE-789: memory exhaustion at load). */
  pickleMaxAllocation: 256 * 1024 * 1024,
  /** Elements the classes a pickle calls with sizes may make at load, in all (torch layers, a sparse matrix's rows; CWE-789). */
  pickleMaxSizedElements: 64 * 1024 * 1024,
  /** Items an allowlisted consumer may draw from a range at load (list(range(n)); CWE-400). */
  pickleMaxConsumedItems: 64 * 1024 * 1024,
  /**
   * Comparisons between distinct keys of equal CPython hash that loading one stream's dicts and sets
   * would make (hash flooding, CWE-407): about 1,400 keys sharing one hash, tens of milliseconds.
   * Keys picklers write never share a full 64-bit hash.
   */
  pickleMaxHashProbes: 1_000_000,
  /** Opcodes executed per stream (CWE-834: bounds work on a hostile stream). */
  pickleMaxOpcodes: 2_000_000_000,
  /** Distinct findings of one rule kept per file; the rest are counted in the last finding (report flooding). */
  findingsPerRule: 50,
  /** Nesting of archives and compressors (CWE-674, zip-in-zip bombs). */
  maxDepth: 8,
  /** Members of one archive (CWE-400). */
  maxMembers: 100_000,
  /** Members scanned in all the layers of one top-level file: nested archives multiply maxMembers (CWE-400). */
  maxMembersPerFile: 1_000_000,
  /** Total bytes decompressed for one top-level file (CWE-409: decompression bomb). */
  maxDecompressedBytes: 8 * 1024 * 1024 * 1024,
  /** Largest single decompressed layer held in memory (compressor output is analysed as one buffer). */
  maxInMemoryLayer: 1024 * 1024 * 1024,
  /** Compression ratio above which a layer is treated as a bomb (CWE-409). */
  maxCompressionRatio: 1_000,
  /** Ratio checks start above this size, so tiny highly-compressible members do not trip them. */
  ratioCheckMinBytes: 16 * 1024 * 1024,
  /** What a file's layers may inflate to in all past amplifiedBytes, in times its own size (CWE-409: bombs under the ratio bound). */
  maxAmplification: 100,
  amplifiedBytes: 1024 * 1024 * 1024,
  /** Bytes of a file read to sniff its format. */
  sniffBytes: 4096,
  /** Longest str/bytes constant decoded as a possible dormant pickle (P22); a longer one that looks encoded is a limit finding (CWE-400). */
  dormantMaxInput: 64 * 1024 * 1024,
  /** Bytes one decoding step of a dormant-payload candidate may produce (CWE-409: a zlib bomb in a string constant). */
  dormantMaxDecoded: 16 * 1024 * 1024,
  /** Below this output size a candidate's compression ratio is not held against it (tiny payloads compress well). */
  dormantRatioFloor: 1024 * 1024,
  /** Encodings undone in a row on one constant (base64>zlib>base64>…; CWE-674). */
  dormantMaxDepth: 4,
  /**
   * Objects and lists a JSON text may hold to be parsed (configs, shard indexes, safetensors headers;
   * CWE-400: 8 MB of "{}," is 2.8 million objects, over 100 MB once parsed). Real ones hold fewer
   * than 300,000 (a tokenizer's merges as pairs).
   */
  jsonMaxContainers: 1_000_000,
});

export type Limits = typeof LIMITS;
