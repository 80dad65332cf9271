/**
 * The generated allowlist (data/allowlist.json, scripts/allowlist/generate.py): its shape, that
 * nothing dangerous got in, and that the introspection of the real libraries is in it.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { allowlist, allowlistIndex, type AllowKind, allowEntry, allowedNames, exclusionOf, Shard } from "../src/rules/allowlist.js";
import { DENY_MODULES, DENY_NAMES } from "../src/rules/callables.js";

const KINDS = new Set(["class", "enum", "function", "cython"]);
const POSITION_FIELDS = ["calls", "instantiates", "constructs", "iterates"] as const;

/** Operators that compute on their arguments' values and allocate nothing by a size (curated; NLTK stores operator.or_). */
const PURE_OPERATORS = ["or_", "and_", "xor", "not_", "eq", "ne", "lt", "le", "gt", "ge", "truth", "is_", "is_not", "neg", "pos", "invert", "index", "abs"]
  .flatMap((f) => [`operator.${f}`, `_operator.${f}`]);

/** Deny-listed names the curated part allows on purpose (the reason is in generate.py). */
const CURATED_OVER_DENY = new Set([
  "functools.partial",
  "joblib.numpy_pickle.NumpyArrayWrapper",
  "types.SimpleNamespace",
  "http.HTTPStatus",
  "dill._dill._create_array",
  "inspect._ParameterKind",
  ...PURE_OPERATORS,
]);

/** Curated names of packages no venv introspects (their reason is in generate.py). */
const CURATED_ONLY_LIBRARIES = new Set(["dill", "trl", "pillow"]);

/** Names with leading double underscores that the pickle protocol or a library's own pickles use. */
const DUNDER_EXCEPTIONS = new Set([
  "copyreg.__newobj__",
  "copyreg.__newobj_ex__",
  "numpy.random._pickle.__randomstate_ctor",
  "numpy.random._pickle.__generator_ctor",
  "numpy.random._pickle.__bit_generator_ctor",
  "numpy.random.__RandomState_ctor",
  "pandas._libs.tslibs.nattype.__nat_unpickle",
]);

function split(qualified: string): [string, string] {
  for (const [module, m] of Object.entries(allowlist().modules)) {
    if (qualified.startsWith(`${module}.`) && Object.hasOwn(m.names, qualified.slice(module.length + 1))) {
      return [module, qualified.slice(module.length + 1)];
    }
  }
  throw new Error(`not in the table: ${qualified}`);
}

/** The expected names that are missing from the table or of another kind. */
function notOfKind(expected: [string, AllowKind][]): [string, AllowKind][] {
  return expected.filter(([q, kind]) => allowEntry(q)?.kind !== kind);
}

/**
 * data/allowlist-bases.json (scripts/allowlist/merge.py's listed_bases): each allowlisted class → the
 * nearest allowlisted classes in its MRO, as the venvs that import it saw it (".Name" is a class of
 * the same module).
 */
function recordedBases(): Map<string, string[]> {
  const file = fileURLToPath(new URL("../../data/allowlist-bases.json", import.meta.url));
  const record = JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, string[]>>;
  const out = new Map<string, string[]>();
  for (const [module, classes] of Object.entries(record)) {
    for (const [name, bases] of Object.entries(classes)) out.set(`${module}.${name}`, bases.map((b) => (b.startsWith(".") ? `${module}${b}` : b)));
  }
  return out;
}

/** The allowlisted classes in a class's MRO, the record followed up, nearest first. */
function ancestors(bases: Map<string, string[]>, q: string): string[] {
  const seen = new Set<string>();
  const todo = [...(bases.get(q) ?? [])];
  for (let i = 0; i < todo.length; i++) {
    const a = todo[i]!;
    if (a === q || seen.has(a)) continue;
    seen.add(a);
    todo.push(...(bases.get(a) ?? []));
  }
  return [...seen];
}

function enclosingModules(module: string): string[] {
  const parts = module.split(".");
  return parts.map((_, i) => parts.slice(0, i + 1).join("."));
}

describe("data/allowlist.json", () => {
  const names = [...allowedNames()];

  test("is sharded by top-level package: each shard holds exactly the modules of its package", () => {
    const { shards } = allowlistIndex();
    assert.ok(shards.includes("torch") && shards.includes("transformers") && shards.includes("builtins"));
    const dir = fileURLToPath(new URL("../../data/allowlist/", import.meta.url));
    assert.deepEqual(readdirSync(dir).sort(), shards.map((top) => `${top}.json`).sort(), "a shard file per listed package, no other");
    for (const module of Object.keys(allowlist().modules)) assert.ok(shards.includes(module.split(".")[0]!), module);
    // A module name from a pickle is looked up only in the listed shards, never read as a path.
    assert.equal(allowEntry("../../package.name"), undefined);
    assert.equal(allowEntry("nosuchpackage.Thing"), undefined);
  });

  test("each shard, read a module at a time from its lines, holds what the whole file parses to", () => {
    const dir = fileURLToPath(new URL("../../data/allowlist/", import.meta.url));
    let modules = 0;
    for (const top of allowlistIndex().shards) {
      const parsed = (JSON.parse(readFileSync(join(dir, `${top}.json`), "utf8")) as { modules: Record<string, unknown> }).modules;
      for (const [module, entry] of Object.entries(parsed)) {
        assert.deepEqual(allowlist().modules[module], entry, module);
        modules++;
      }
    }
    assert.equal(Object.keys(allowlist().modules).length, modules);
  });

  test("a shard not written a module per line is refused, not half read", () => {
    const good = '{\n"schema":"modelgate.allowlist-shard/v2",\n"modules":{\n"m":{"lib":"l","names":{"A":"class"}},\n"m.n":{"lib":"l","names":{}}\n}\n}\n';
    assert.deepEqual(new Shard(good, "x").get("m"), { lib: "l", names: { A: "class" } });
    assert.equal(new Shard(good, "x").get("constructor"), undefined);
    // As a checkout may leave the file: CRLF line ends, a BOM, no last newline.
    for (const text of [good.replaceAll("\n", "\r\n"), `\uFEFF${good}`, good.slice(0, -1)]) {
      assert.deepEqual(new Shard(text, "x").all(), new Shard(good, "x").all(), JSON.stringify(text));
    }
    const bad = [
      good.replace('"modelgate.allowlist-shard/v2"', '"modelgate.allowlist-shard/v1"'),
      good.replace("}},\n", "}}\n"), // a missing comma: two entries run together
      JSON.stringify(JSON.parse(good)), // valid JSON on one line
      good.replace('"m.n":', '"m\\u002en":'), // a key this reader would not decode
    ];
    for (const text of bad) assert.throws(() => new Shard(text, "x"), /not a modelgate|not one module/, text);
    // Two modules on one line read as one entry that is not JSON: looking it up fails (the scan errs and blocks).
    const joined = new Shard(good.replace('\n"m.n"', ' "m.n"'), "x");
    assert.throws(() => joined.get("m"), /x: the entry of m is not JSON/);
  });

  test("has the v2 schema, a generator command, kinds and libraries", () => {
    assert.equal(allowlist().schema, "modelgate.allowlist/v2");
    assert.match(allowlist().generator, /scripts\/allowlist\/generate\.py/);
    assert.deepEqual(new Set(Object.keys(allowlist().kinds)), KINDS);
    assert.ok(allowlist().libraries.python.length > 0);
    for (const [module, m] of Object.entries(allowlist().modules)) {
      assert.ok(m.lib === "python" || CURATED_ONLY_LIBRARIES.has(m.lib) || Object.hasOwn(allowlist().libraries, m.lib), `${module}: unknown library ${m.lib}`);
      assert.ok(Object.keys(m.names).length > 0, `${module} has no names`);
    }
  });

  test("every entry has a known kind and well-formed argument fields", () => {
    for (const q of names) {
      const e = allowEntry(q)!;
      assert.ok(KINDS.has(e.kind), `${q}: kind ${e.kind}`);
      for (const f of POSITION_FIELDS) {
        const v = e[f];
        if (v !== undefined) assert.ok(v === "*" || (Array.isArray(v) && v.every((i) => Number.isInteger(i) && i >= 0)), `${q}.${f}`);
      }
      if (e.state !== undefined) assert.ok(Number.isInteger(e.state) && e.state >= 0, `${q}.state`);
      if (e.context !== undefined) assert.equal(e.context, "torchscript", q);
      if (e.notCalled !== undefined) {
        assert.equal(e.notCalled, true, q);
        assert.ok(e.why, `${q}: not callable, without a reason`);
      }
      if (e.versions !== undefined) assert.match(e.versions, /^\S+( \S+)*$/, `${q}.versions`);
    }
  });

  test("nothing under modelgate's deny lists, except the reviewed curated names", () => {
    const hits = names.filter((q) => {
      if (CURATED_OVER_DENY.has(q)) return false;
      const [module] = split(q);
      return Object.hasOwn(DENY_NAMES, q) || enclosingModules(module).some((m) => Object.hasOwn(DENY_MODULES, m));
    });
    assert.deepEqual(hits, []);
  });

  test("no lazy iterators, indirection or code execution from builtins, itertools, operator or functools", () => {
    for (const n of ["map", "filter", "zip", "enumerate", "reversed", "iter", "next", "getattr", "setattr", "eval", "exec",
      "compile", "open", "__import__", "type", "vars", "globals"]) {
      assert.equal(allowEntry(`builtins.${n}`), undefined, `builtins.${n}`);
    }
    const lazy = names.filter((q) => /^(itertools|operator|_operator|functools)\./.test(q) && q !== "functools.partial" && !PURE_OPERATORS.includes(q));
    assert.deepEqual(lazy, []);
    const partial = allowEntry("functools.partial")!;
    assert.deepEqual([partial.kind, partial.calls, partial.stateCalls], ["class", [0], [0]]);
  });

  test("every cython helper rebuilds a class of its own module that is allowlisted", () => {
    const helpers = names.filter((q) => allowEntry(q)!.kind === "cython");
    assert.ok(helpers.length > 0);
    for (const q of helpers) {
      const [module, name] = split(q);
      assert.match(name, /^__pyx_unpickle_\w+$/, q);
      const cls = allowEntry(`${module}.${name.slice("__pyx_unpickle_".length)}`);
      assert.ok(cls && (cls.kind === "class" || cls.kind === "enum"), `${q}: its class is not allowlisted`);
    }
  });

  test("names are single identifiers without dunders, except the pickle protocols' own", () => {
    for (const q of names) {
      const [module, name] = split(q);
      // A method pickles name exactly (getattr(ZoneInfo, "_unpickle"), a nested qualified name): Class.method of an allowlisted class.
      const method = /^([A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z_][A-Za-z0-9_]*$/.exec(name);
      if (method) {
        assert.equal(allowEntry(`${module}.${method[1]}`)?.kind, "class", `${q}: a method of a class that is not allowlisted`);
        continue;
      }
      assert.match(name, /^[A-Za-z_][A-Za-z0-9_]*$/, q);
      if (name.startsWith("__") && !name.startsWith("__pyx_unpickle_")) {
        assert.ok(DUNDER_EXCEPTIONS.has(q), `${q}: dunder name`);
      }
    }
  });

  test("every exclusion has a reason, and no excluded name is allowlisted", () => {
    const excluded = Object.entries(allowlist().excluded);
    assert.ok(excluded.length > 0);
    for (const [q, reason] of excluded) {
      assert.ok(reason.trim().length > 5, `${q}: no reason`);
      assert.equal(allowEntry(q), undefined, `${q} is both excluded and allowlisted`);
      assert.equal(exclusionOf(q), reason);
    }
  });

  test("compat holds CPython's Python 2 mappings", () => {
    assert.equal(allowlist().compat.modules.__builtin__, "builtins");
    assert.equal(allowlist().compat.modules.copy_reg, "copyreg");
    assert.deepEqual(allowlist().compat.names["itertools imap"], ["builtins", "map"]);
    assert.deepEqual(allowlist().compat.names["__builtin__ xrange"], ["builtins", "range"]);
  });

  test("the introspection of the real libraries is in it: names they pickle and classes they define", () => {
    const expected: [string, AllowKind][] = [
      ["sklearn.tree._tree.Tree", "class"],
      ["sklearn.neighbors._kd_tree.KDTree", "class"],
      ["sklearn.ensemble._forest.RandomForestClassifier", "class"],
      ["sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier", "class"],
      ["sklearn.compose._column_transformer.ColumnTransformer", "class"],
      ["pandas.core.internals.managers.BlockManager", "class"],
      ["pandas._libs.internals._unpickle_block", "function"],
      ["pandas.core.indexes.base._new_Index", "function"],
      ["pandas._libs.tslibs.timestamps.Timestamp", "class"],
      ["numpy._core.multiarray._reconstruct", "function"],
      ["numpy.core.multiarray._reconstruct", "function"],
      ["numpy.random.bit_generator.SeedSequence", "class"],
      ["scipy.sparse._csr.csr_matrix", "class"],
      ["transformers.training_args.TrainingArguments", "class"],
      ["transformers.trainer_utils.SchedulerType", "enum"],
      ["transformers.trainer_utils.IntervalStrategy", "enum"],
      ["transformers.training_args.OptimizerNames", "enum"],
      ["accelerate.utils.dataclasses.DistributedType", "enum"],
      ["torch.optim.adam.Adam", "class"],
      ["torch.optim.lr_scheduler.OneCycleLR", "class"],
      ["torch.nn.modules.linear.Linear", "class"],
      ["torch.distributed.checkpoint.metadata.Metadata", "class"],
      ["torchvision.models.resnet.ResNet", "class"],
      ["omegaconf.dictconfig.DictConfig", "class"],
      ["lightning.fabric.utilities.data.AttributeDict", "class"],
    ];
    assert.deepEqual(notOfKind(expected), []);
    for (const lib of ["torch", "torchvision", "numpy", "scipy", "scikit-learn", "pandas", "transformers"]) {
      assert.ok(allowlist().libraries[lib]?.length, `${lib} was not introspected`);
    }
    assert.deepEqual([...new Set(allowlist().libraries.numpy.map((v) => v[0]))].sort(), ["1", "2"], "numpy 1.x and 2.x");
    assert.ok(names.some((q) => allowEntry(q)!.versions !== undefined), "names seen in only some versions say so");
    assert.ok(names.length > 10000, `only ${names.length} names`);
  });

  test("the screen keeps out what runs code or reaches files when loaded", () => {
    // rv_generic.__setstate__ exec()s a template string taken from the pickled state: allowed only
    // under the state guard that accepts SciPy's own template, and never called.
    for (const name of ["scipy.stats._continuous_distns.norm_gen", "scipy.stats._discrete_distns.poisson_gen", "scipy.stats._distn_infrastructure.rv_generic"]) {
      assert.deepEqual([allowEntry(name)?.stateGuard, allowEntry(name)?.notCalled], ["scipy-argparser", true], name);
      assert.equal(exclusionOf(name), undefined, name);
    }
    assert.equal(allowEntry("scipy.stats._discrete_distns.poisson_gen._entropy")?.kind, "function");
    // Pillow's images allocate the size their state gives: held to the pillow-image guard, and never called (a file name opens).
    for (const name of ["PIL.Image.Image", "PIL.PngImagePlugin.PngImageFile", "PIL.JpegImagePlugin.JpegImageFile"]) {
      assert.deepEqual([allowEntry(name)?.stateGuard, allowEntry(name)?.notCalled], ["pillow-image", true], name);
    }
    // gymnasium's spaces: Box(low, high, shape) allocates by its shape, MultiDiscrete's __setstate__ by its state's.
    for (const name of ["gymnasium.spaces.box.Box", "gymnasium.spaces.multi_discrete.MultiDiscrete", "gymnasium.spaces.dict.Dict"]) {
      assert.deepEqual([allowEntry(name)?.stateGuard, allowEntry(name)?.notCalled], ["gymnasium-space", true], name);
    }
    // optuna's cloud artifact stores make an SDK client whose credential discovery reaches the network (red team round 36).
    for (const name of ["optuna.artifacts._gcs.GCSArtifactStore", "optuna.artifacts._boto3.Boto3ArtifactStore"]) assert.equal(allowEntry(name), undefined, name);
    // EPS loads through Ghostscript; a stub format's load calls a handler the application registers.
    assert.equal(allowEntry("PIL.EpsImagePlugin.EpsImageFile"), undefined);
    assert.equal(allowEntry("PIL.GribStubImagePlugin.GribStubImageFile"), undefined);
    // tzfile(path) opens the file it is given: callable only with None there, as it pickles (test/precision.test.ts).
    assert.equal(allowEntry("dateutil.tz.tz.tzfile")?.opens, 0);
    assert.match(allowEntry("dateutil.tz.tz.tzfile")?.why ?? "", /opens the zone file/);
    assert.equal(allowEntry("torch.utils.data.dataloader.DataLoader"), undefined);
    assert.equal(allowEntry("torch.storage._load_from_bytes"), undefined);
    assert.equal(allowEntry("joblib.numpy_pickle_compat.NDArrayWrapper"), undefined);
    // Loaded by __newobj__ and BUILD; calling it would read the fsdp_config file it names.
    assert.equal(allowEntry("transformers.training_args.TrainingArguments")?.notCalled, true);
  });

  test("the screen keeps out classes whose objects run code when a load only touches them", () => {
    // BUILD looks __setstate__ up on the object: a class without one falls into __getattr__, which
    // these import a module by name from (a red team's pickles ran code through both); the container
    // opcodes and allowlisted callables reach __getitem__ and the other dunders.
    for (const q of ["imblearn.LazyLoader", "transformers.utils.import_utils._LazyModule", "keras.src.utils.module_utils.LazyModule", "accelerate.utils.offload.OffloadedWeightsLoader"]) {
      assert.equal(allowEntry(q), undefined, q);
      assert.match(exclusionOf(q) ?? "", /reaches (importers|files)/, q);
    }
    // Test runners: calling NumPy's, SciPy's or statsmodels' PytestTester runs pytest with the caller's arguments.
    for (const q of ["numpy._pytesttester.PytestTester", "scipy._lib._testutils.PytestTester", "statsmodels.tools._test_runner.PytestTester"]) assert.equal(allowEntry(q), undefined, q);
    // __call__ is read too: a __setstate__ calling a method on self calls a stored object that shadows it.
    for (const q of ["torch._lazy.closure.AsyncClosureHandler", "transformers.models.xlm.tokenization_xlm.XLMTokenizer"]) {
      assert.equal(allowEntry(q), undefined, q);
      assert.match(exclusionOf(q) ?? "", /from __call__\) reaches/, q);
    }
    // A finalizer that hands the native library a handle the state set frees an attacker's address (a red team crashed the loader).
    for (const q of ["lightgbm.basic._InnerPredictor", "lightgbm.basic.Dataset", "xgboost.core.DMatrix"]) {
      assert.equal(allowEntry(q), undefined, q);
      assert.match(exclusionOf(q) ?? "", /native code/, q);
    }
    // torch.utils.data stays out (workers, file readers) but for the samplers and in-memory datasets pickles hold.
    for (const q of ["torch.utils.data.dataset.TensorDataset", "torch.utils.data.sampler.RandomSampler"]) assert.equal(allowEntry(q)?.kind, "class", q);
    assert.equal(allowEntry("torch.utils.data.dataloader.DataLoader"), undefined);
    // Through module-level helpers (a sixth red team round): ScoringMonitor's state restore connects to
    // an address, EsmTokenizer(path) reads a file.
    for (const q of ["sklearn.callback._scoring_monitor.ScoringMonitor", "accelerate.data_loader.DataLoaderDispatcher"]) assert.equal(allowEntry(q), undefined, q);
    // A frozen SciPy distribution's __init__ calls the class of the object it is given: any class an object was made of (an eleventh round).
    // Subclasses that inherit such an __init__ too (a thirteenth round), and statsmodels' TreatmentEffect (model.__class__(...)).
    for (const q of ["scipy.stats._distn_infrastructure.rv_continuous_frozen", "scipy.stats._distn_infrastructure.rv_discrete_frozen", "scipy.stats._discrete_distns.poisson_binomial_frozen",
      "scipy.stats._levy_stable.levy_stable_frozen", "scipy.stats._distribution_infrastructure._RealParameter", "statsmodels.treatment.treatment_effects.TreatmentEffect"]) {
      assert.equal(allowEntry(q)?.notCalled, true, q);
    }
    // polars' Config(**options) calls getattr(self, option)(value): Config.save_to_file wrote a red team's .bashrc. Its
    // __enter__ does the same, so the screen leaves it out whole; _restore_runtime_vars sets polars' options.
    assert.equal(allowEntry("polars.config.Config"), undefined);
    assert.equal(allowEntry("polars.config._restore_runtime_vars")?.notCalled, true);
    // shap's TreeEnsemble(model) has a CatBoost model write and read a temporary file.
    for (const q of ["transformers.models.esm.tokenization_esm.EsmTokenizer", "accelerate.state.PartialState", "nltk.stem.rslp.RSLPStemmer", "shap.explainers._tree.TreeEnsemble"]) {
      assert.equal(allowEntry(q)?.notCalled, true, q);
    }
    // Printing is not loading: pandas' Series stays, though its to_string can write to a path.
    assert.equal(allowEntry("pandas.core.series.Series")?.kind, "class");
  });

  test("optuna, torchmetrics, shap, pytorch-metric-learning and open_clip are in it: a precision run found their pickles blocked", () => {
    for (const q of ["optuna.study.study.Study", "optuna.samplers._tpe.sampler.TPESampler", "optuna.trial._frozen.FrozenTrial",
      "torchmetrics.classification.accuracy.MulticlassAccuracy", "torchmetrics.collections.MetricCollection", "shap._explanation.Explanation",
      "slicer.slicer.Slicer", "pytorch_metric_learning.losses.arcface_loss.ArcFaceLoss", "open_clip.model.CLIP"]) {
      assert.equal(allowEntry(q)?.kind, "class", q);
    }
    assert.equal(allowEntry("optuna.trial._state.TrialState")?.kind, "enum");
    // Their screened-out parts stay out: optuna's lazy importer, shap's (de)serializers.
    for (const q of ["optuna._imports._LazyImport", "shap._serializable.Deserializer"]) assert.match(exclusionOf(q) ?? "", /reaches/, q);
  });

  test("datasets, torch-geometric, networkx, xarray, polars and PyWavelets are in it: a precision run found their pickles blocked", () => {
    for (const q of ["datasets.features.features.Features", "datasets.features.features.Value", "datasets.features.features.ClassLabel",
      "datasets.features.features.List", "datasets.arrow_dataset.Dataset", "datasets.info.DatasetInfo", "datasets.table.InMemoryTable",
      "datasets.dataset_dict.DatasetDict", "torch_geometric.data.data.Data", "torch_geometric.data.data.DataEdgeAttr",
      "torch_geometric.data.hetero_data.HeteroData", "torch_geometric.data.storage.NodeStorage", "torch_geometric.data.storage.GlobalStorage",
      "torch_geometric.data.graph_store.EdgeAttr", "torch_geometric.data.feature_store.TensorAttr", "networkx.classes.graph.Graph",
      "networkx.classes.digraph.DiGraph", "networkx.classes.reportviews.NodeView", "networkx.classes.coreviews.AdjacencyView",
      "xarray.core.dataarray.DataArray", "xarray.core.variable.Variable", "polars.dataframe.frame.DataFrame",
      "pywt._extensions._pywt.Wavelet"]) {
      assert.equal(allowEntry(q)?.kind, "class", q);
    }
    // ClassLabel reads the names_file it is called with, SentencePieceProcessor its model_file: constructed and given
    // state, never called (the processor's __setstate__ runs __init__ with no arguments, then parses the pickled proto).
    for (const q of ["datasets.features.features.ClassLabel", "sentencepiece.SentencePieceProcessor", "xarray.core.dataset.Dataset"]) {
      assert.equal(allowEntry(q)?.notCalled, true, q);
    }
    // sentence-transformers 6.0.1 keeps its similarity functions in a model's state.
    for (const q of ["sentence_transformers.util.similarity.cos_sim", "sentence_transformers.util.similarity.pairwise_cos_sim"]) {
      assert.equal(allowEntry(q)?.kind, "function", q);
    }
    // Their screened-out parts stay out (faiss, whose state is parsed by its native index reader, is not in it at
    // all): a Dataset's memory-mapped table reopens the path its state names; a LazyFrame's state is a
    // plan that pickles its Python functions (the area is left out whole, and an Expr's subclasses with it); a media
    // feature decodes a row by opening the path it gives.
    assert.match(exclusionOf("datasets.table.MemoryMappedTable") ?? "", /__setstate__ reaches files/);
    assert.match(exclusionOf("polars.selectors.Selector") ?? "", /inherits polars\.expr\.expr\.Expr/);
    assert.match(exclusionOf("datasets.features.image.Image") ?? "", /opens, or downloads, the path a row gives/);
    for (const q of ["datasets.table.MemoryMappedTable", "polars.lazyframe.frame.LazyFrame",
      "datasets.features.image.Image", "datasets.utils.tf_utils.NumpyMultiprocessingGenerator", "networkx.utils.decorators.argmap",
      "networkx.utils.backends._restore_dispatchable", "xarray.backends.file_manager.CachingFileManager", "faiss.swigfaiss.IndexFlatL2",
      "sentence_transformers.sentence_transformer.model_card.SentenceTransformerModelCardData"]) {
      assert.equal(allowEntry(q), undefined, q);
    }
  });

  test("Debian's library versions are in it: what its python3 packages pickle and define", () => {
    const expected: [string, AllowKind][] = [
      ["sklearn.metrics._dist_metrics.EuclideanDistance", "class"],
      ["sklearn.ensemble._gb_losses.MultinomialDeviance", "class"],
      ["sklearn._loss._loss.__pyx_unpickle_CyHalfPoissonLoss", "cython"],
      ["pandas.core.indexes.numeric.Int64Index", "class"],
      ["pandas.core.arrays.sparse.dtype.SparseDtype", "class"],
      ["pytz._UTC", "function"],
      ["scipy.sparse._arrays.csr_array", "class"],
      ["gensim.models.keyedvectors.KeyedVectors", "class"],
      ["gensim.corpora.dictionary.Dictionary", "class"],
      ["xgboost.sklearn.XGBClassifier", "class"],
      ["imblearn.pipeline.Pipeline", "class"],
      ["imblearn.over_sampling._smote.base.SMOTE", "class"],
    ];
    assert.deepEqual(notOfKind(expected), []);
    const versions: [string, string][] = [["scikit-learn", "1.2.1"], ["pandas", "1.5.3"], ["scipy", "1.10.1"], ["numpy", "1.24.2"],
      ["gensim", "4.2.0"], ["xgboost", "1.7.4"], ["imbalanced-learn", "0.10.0"]];
    for (const [lib, version] of versions) assert.ok(allowlist().libraries[lib]?.includes(version), `${lib} ${version} was not introspected`);
    // Removed in pandas 2: only the Debian version has it, and the entry says so.
    assert.equal(allowEntry("pandas.core.indexes.numeric.Int64Index")?.versions, "1.5.3");
  });

  test("transformers 4.x is in it: the class paths its whole models and pickled tokenizers name", () => {
    // Most transformers pickles were written by 4.x, whose paths 5.x renamed or dropped (a fourth precision corpus).
    for (const version of ["4.57.6", "5.18.0"]) assert.ok(allowlist().libraries.transformers?.includes(version), `transformers ${version} was not introspected`);
    assert.ok(allowlist().libraries.tokenizers?.includes("0.22.2"), "tokenizers 0.22.2 was not introspected");
    const expected: [string, AllowKind][] = [
      ["transformers.models.bert.modeling_bert.BertSdpaSelfAttention", "class"],
      ["transformers.models.vit.modeling_vit.ViTSelfAttention", "class"],
      ["transformers.tokenization_utils.Trie", "class"],
      ["transformers.models.bert.tokenization_bert.WordpieceTokenizer", "class"],
      ["transformers.models.gpt2.tokenization_gpt2_fast.GPT2TokenizerFast", "class"],
      ["transformers.models.llama.tokenization_llama_fast.LlamaTokenizerFast", "class"],
      ["transformers.modeling_rope_utils._compute_default_rope_parameters", "function"],
    ];
    assert.deepEqual(notOfKind(expected), []);
    // Only 4.x has it, and the entry says so.
    assert.equal(allowEntry("transformers.models.bert.modeling_bert.BertSdpaSelfAttention")?.versions, "4.57.6");
    // The screen keeps out 4.x's image processors as it does 5.x's (__call__ fetches the URLs it is given), and
    // the regex engine's native compile, which a slow GPT-2 tokenizer pickles with raw engine code, is not allowed.
    assert.equal(allowEntry("transformers.models.vit.image_processing_vit.ViTImageProcessor"), undefined);
    assert.ok(exclusionOf("transformers.models.vit.image_processing_vit.ViTImageProcessor"));
    assert.equal(allowEntry("regex._regex.compile"), undefined);
  });

  test("torchaudio is in it (Debian's 0.13): the models and transforms its whole-saved modules name, not its I/O", () => {
    // A fourth precision corpus' torchaudio models and transforms, saved whole, blocked for want of these.
    assert.ok(allowlist().libraries.torchaudio?.includes("0.13.1"), "torchaudio 0.13.1 was not introspected");
    const expected: [string, AllowKind][] = [
      ["torchaudio.models.conformer.Conformer", "class"],
      ["torchaudio.models.wav2vec2.model.Wav2Vec2Model", "class"],
      ["torchaudio.models.wav2vec2.components.SelfAttention", "class"],
      ["torchaudio.models._hdemucs.HDemucs", "class"],
      ["torchaudio.transforms._transforms.MelSpectrogram", "class"],
      ["torchaudio.transforms._transforms.Resample", "class"],
    ];
    assert.deepEqual(notOfKind(expected), []);
    // StreamReader opens the file, stream or URL it is given through FFmpeg; the RNN-T bundle's token processor
    // opens its SentencePiece model file: the screen keeps torchaudio's I/O and pipelines out as areas.
    for (const q of ["torchaudio.io._stream_reader.StreamReader", "torchaudio.io._stream_writer.StreamWriter",
      "torchaudio.pipelines.rnnt_pipeline._SentencePieceTokenProcessor"]) assert.equal(allowEntry(q), undefined, q);
  });

  test("JAX, flax and optax are in it: pickled jax arrays, PRNG keys, optax states and nnx states, not JAX's compiler", () => {
    for (const [lib, version] of [["jax", "0.10.2"], ["flax", "0.12.8"], ["optax", "0.2.8"]]) {
      assert.ok(allowlist().libraries[lib]?.includes(version), `${lib} ${version} was not introspected`);
    }
    const expected: [string, AllowKind][] = [
      ["jax._src.array._reconstruct_array", "function"],
      ["jax._src.random.prng.PRNGKeyArray", "class"],
      ["jax._src.random.prng.PRNGImpl", "class"],
      ["jax._src.random.threefry2x32.threefry_split", "function"],
      ["optax._src.transform.ScaleByAdamState", "class"],
      ["optax._src.base.EmptyState", "class"],
      ["flax.nnx.statelib.State", "class"],
      ["flax.nnx.variablelib.Param", "class"],
    ];
    assert.deepEqual(notOfKind(expected), []);
    // jax.Array's rebuilder calls its NumPy rebuilder and hands the array state to the result's __setstate__:
    // the engine follows both, as for dill's _create_array.
    const rebuild = allowEntry("jax._src.array._reconstruct_array");
    assert.deepEqual([rebuild?.calls, rebuild?.setstate], [[0], 2]);
    // Deserializing exported StableHLO or compiled executables, compiling, host callbacks and cloudpickled
    // colocated functions are screen areas: never walked, so never allowed.
    const areas = ["jax._src.export", "jax.experimental.serialize_executable", "jax._src.compiler", "jax._src.stages",
      "jax._src.interpreters", "jax._src.callback", "jax.experimental.colocated_python", "jax._src.compilation_cache", "flax.training.checkpoints"];
    for (const module of Object.keys(allowlist().modules)) {
      assert.ok(!areas.some((a) => module === a || module.startsWith(`${a}.`)), `${module} is allowlisted`);
    }
  });

  test("arch, astropy, gymnasium, igraph, rustworkx, geopandas/shapely, ml_collections, rank_bm25, bm25s, tiktoken are in it; sympy and cloudpickle stay out", () => {
    for (const [lib, version] of [["arch", "8.0.0"], ["astropy", "8.0.1"], ["spacy", "3.8.16"], ["thinc", "8.3.13"], ["gymnasium", "1.3.0"],
      ["igraph", "1.0.0"], ["shapely", "2.1.2"], ["tiktoken", "0.14.0"]]) {
      assert.ok(allowlist().libraries[lib]?.includes(version), `${lib} ${version} was not introspected`);
    }
    const expected: [string, AllowKind][] = [
      ["arch.univariate.base.ARCHModelResult", "class"],
      ["arch.univariate.volatility.GARCH", "class"],
      ["arch.univariate.recursions.__pyx_unpickle_GARCHUpdater", "cython"],
      ["astropy.units.quantity.Quantity", "class"],
      ["astropy.time.core.Time", "class"],
      ["astropy.coordinates.sky_coordinate.SkyCoord", "class"],
      ["astropy.modeling.functional_models.Gaussian1D", "class"],
      ["gymnasium.spaces.box.Box", "class"],
      ["gymnasium.envs.registration.EnvSpec", "class"],
      ["igraph.Graph", "class"],
      ["rustworkx.PyDiGraph", "class"],
      ["geopandas.geodataframe.GeoDataFrame", "class"],
      ["shapely.io.from_wkb", "function"],
      ["ml_collections.config_dict.config_dict.ConfigDict", "class"],
      ["tiktoken.core.Encoding", "class"],
      ["thinc.model.Model", "class"],
    ];
    assert.deepEqual(notOfKind(expected), []);
    // rank_bm25's constructors tokenize the corpus in a process pool: restored, never called.
    assert.equal(allowEntry("rank_bm25.BM25Okapi")?.notCalled, true);
    // sympy is a screen area (constructing an expression sympifies strings, which evaluates them): every name its
    // pickles use is excluded, none allowed. astropy's Table restores a formatter that reaches os.system: left out,
    // so those pickles still block. spaCy's StringStore is a compiled class the screen cannot read, curated after
    // a reading of its source (its constructor adds the strings it is given; only to_disk and from_disk touch files).
    assert.equal(allowEntry("spacy.strings.StringStore")?.kind, "class");
    for (const q of ["sympy.core.add.Add", "sympy.core.symbol.Symbol", "sympy.functions.elementary.trigonometric.sin",
      "astropy.table.table.Table"]) {
      assert.equal(allowEntry(q), undefined, q);
      assert.ok(exclusionOf(q), `${q}: no recorded exclusion`);
    }
    // srsly pickles by value through its cloudpickle, and reads YAML and msgpack with hooks; astropy's file readers,
    // downloads and SAMP hub: screen areas, never allowed.
    const areas = ["sympy", "srsly.cloudpickle", "srsly.ruamel_yaml", "srsly.msgpack", "spacy.cli", "astropy.io", "astropy.samp",
      "astropy.utils.data", "igraph.remote"];
    for (const module of Object.keys(allowlist().modules)) {
      assert.ok(!areas.some((a) => module === a || module.startsWith(`${a}.`)), `${module} is allowlisted`);
    }
  });

  test("Debian's libraries: what may be stored but not called, and the load paths kept out", () => {
    // gensim's constructors train (corpus files, threads, processes): its classes are restored from a pickle, never called.
    for (const q of ["gensim.models.word2vec.Word2Vec", "gensim.models.doc2vec.Doc2Vec", "gensim.models.ldamulticore.LdaMulticore",
      "gensim.corpora.dictionary.Dictionary"]) {
      assert.equal(allowEntry(q)?.notCalled, true, q);
    }
    // Corpus streams read the files they name when iterated; XGBoost's tracker and communicator are network code.
    // The screen excludes the first kind with a recorded reason; whole areas (gensim.corpora, xgboost.tracker)
    // are skipped before import, so their names are simply never allowed.
    for (const q of ["gensim.models.word2vec.LineSentence", "gensim.matutils.MmWriter", "xgboost.compat.LazyLoader"]) {
      assert.equal(allowEntry(q), undefined, q);
      assert.ok(exclusionOf(q), `${q}: no recorded exclusion`);
    }
    for (const q of ["gensim.corpora.mmcorpus.MmCorpus", "xgboost.tracker.RabitTracker", "xgboost.dask.DaskXGBClassifier"]) {
      assert.equal(allowEntry(q), undefined, q);
    }
    // Booster's state restore hands the pickled model buffer to XGBoost's native parser; a call may read model_file.
    const booster = allowEntry("xgboost.core.Booster");
    assert.equal(booster?.notCalled, true);
    assert.match(booster?.why ?? "", /XGBoosterUnserializeFromBuffer/);
    // gensim's loader unpickles sibling files the pickle names: none of it may be named by a pickle.
    for (const q of ["gensim.utils.SaveLoad.load", "gensim.utils.SaveLoad._load_specials", "gensim.utils.unpickle"]) {
      assert.equal(allowEntry(q), undefined, q);
      assert.ok(exclusionOf(q), `${q}: no recorded exclusion`);
    }
    // scikit-learn 1.2's default scorer is stored in a search's scorer_; calling it runs estimator.score.
    assert.equal(allowEntry("sklearn.metrics._scorer._passthrough_scorer")?.notCalled, true);
  });

  test("the record of allowlisted bases names allowlisted classes, and holds the MROs red teams went through", () => {
    const bases = recordedBases();
    assert.ok(bases.size > 10000, `only ${bases.size} classes recorded`);
    for (const [q, listed] of bases) {
      assert.equal(allowEntry(q)?.kind, "class", `${q}: recorded, not an allowlisted class`);
      for (const b of listed) assert.equal(allowEntry(b)?.kind, "class", `${q}: its base ${b} is not an allowlisted class`);
    }
    const inherits: [string, string][] = [
      ["scipy.stats._levy_stable.levy_stable_frozen", "scipy.stats._distn_infrastructure.rv_frozen"],
      ["scipy.stats._distribution_infrastructure._RealParameter", "scipy.stats._distribution_infrastructure._Parameter"],
      ["nltk.tag.senna.SennaTagger", "nltk.classify.senna.Senna"],
      ["shap.explainers._gpu_tree.GPUTreeExplainer", "shap.explainers._tree.TreeExplainer"],
      ["accelerate.utils.deepspeed.DeepSpeedOptimizerWrapper", "accelerate.optimizer.AcceleratedOptimizer"],
      ["transformers.models.bert.modeling_bert.BertModel", "transformers.modeling_utils.PreTrainedModel"],
      ["torch.nn.modules.linear.Linear", "torch.nn.modules.module.Module"],
    ];
    for (const [q, base] of inherits) assert.ok(ancestors(bases, q).includes(base), `${q} inherits ${base}`);
  });

  test("a class that inherits a construct-only class is construct-only too", () => {
    // A hand-set flag (CURATED, NOT_CALLED_LIBRARIES, an edit of the data) is not the screen's, which reads
    // the MRO itself: merge.py carries it down. A red team called rv_frozen.__init__ through levy_stable_frozen,
    // allowlisted on its own; BertModel inherits PreTrainedModel.__init__.
    const bases = recordedBases();
    const construct = (q: string) => allowEntry(q)?.kind === "class" && allowEntry(q)?.notCalled === true;
    const callable: string[] = [];
    let inheriting = 0;
    for (const q of bases.keys()) {
      const flagged = ancestors(bases, q).find(construct);
      if (flagged === undefined) continue;
      inheriting++;
      if (!construct(q)) callable.push(`${q} (inherits ${flagged})`);
    }
    assert.deepEqual(callable, []);
    assert.ok(inheriting > 1000, `only ${inheriting} classes inherit a construct-only class`);
    // The flags merge.py set say which base they come from, and that base is construct-only.
    let named = 0;
    for (const q of names) {
      const base = /^not callable: it inherits from (\S+), which is construct-only/.exec(allowEntry(q)!.why ?? "")?.[1];
      if (base === undefined) continue;
      named++;
      assert.ok(construct(base) && ancestors(bases, q).includes(base), `${q}: ${base} is not a construct-only class in its MRO`);
    }
    assert.ok(named > 0);
    for (const q of ["nltk.tag.senna.SennaTagger", "shap.explainers._gpu_tree.GPUTreeExplainer", "peft.tuners.xlora.model.XLoraModel"]) {
      assert.equal(allowEntry(q)?.notCalled, true, q);
    }
  });

  test("torch.nn.Module and every allowlisted class that inherits it are marked module (merge.py's mark_modules)", () => {
    const bases = recordedBases();
    const MODULE = "torch.nn.modules.module.Module";
    const unmarked: string[] = [];
    let modules = 0;
    for (const q of bases.keys()) {
      if (!ancestors(bases, q).includes(MODULE)) continue;
      modules++;
      if (allowEntry(q)?.module !== true) unmarked.push(q);
    }
    assert.deepEqual(unmarked, []);
    assert.ok(modules > 5000, `only ${modules} module classes recorded`);
    assert.equal(allowEntry(MODULE)?.module, true);
    // And nothing else: marked classes are modules.
    for (const q of names) if (allowEntry(q)?.module) assert.ok(q === MODULE || ancestors(bases, q).includes(MODULE), `${q} is marked module`);
  });

  test("classes whose own attribute code answers BUILD's lookup of __setstate__ are marked forwards", () => {
    // Red teams ran code through these: the lookup falls into a __getattr__ that hands it to what the
    // object holds (an array, a loader, its items), whose __setstate__ then gets BUILD's state.
    for (const q of [
      "numpy.lib.user_array.container",
      "numpy.lib.Arrayterator",
      "numpy.lib.arrayterator.Arrayterator", // NumPy 1.x's name for it
      "scipy._lib._util._RichResult",
      "scipy.optimize._optimize.OptimizeResult", // a _RichResult
      "keras.src.utils.config.Config", // items served as attributes
      "accelerate.data_loader.DataLoaderAdapter",
      "accelerate.data_loader.DataLoaderShard", // inherits DataLoaderAdapter's __getattr__
    ]) {
      assert.equal(allowEntry(q)?.kind, "class", q);
      assert.equal(allowEntry(q)?.forwards, true, q);
    }
    // A __getattr__ beside a __setstate__ is not reached by the lookup (pandas' NDFrame, torch's Module),
    // and neither is anything in a class without one; a C type that sets the generic slot itself
    // (int, SimpleNamespace) has a __getattribute__ of its own that changes nothing.
    for (const q of [
      "pandas.core.frame.DataFrame",
      "torch.nn.modules.linear.Linear",
      "collections.OrderedDict",
      "builtins.int",
      "types.SimpleNamespace",
      "sklearn.linear_model._base.LinearRegression",
    ]) {
      assert.equal(allowEntry(q)?.kind, "class", q);
      assert.equal(allowEntry(q)?.forwards, undefined, q);
    }
    let marked = 0;
    for (const q of names) {
      const e = allowEntry(q)!;
      if (e.forwards === undefined) continue;
      marked++;
      assert.equal(e.forwards, true, q);
      assert.equal(e.kind, "class", `${q}: marked forwards, not a class`);
    }
    assert.ok(marked > 100, `only ${marked} classes marked forwards`);
  });

  test("the screen reads on up the MRO where a method hands on with super()", () => {
    // peft's AdaLoraConfig.__post_init__ only calls super().__post_init__(); LoraConfig's, which that
    // runs, imports modules: calling the class at load is out, restoring one is fine.
    const config = allowEntry("peft.tuners.adalora.config.AdaLoraConfig");
    assert.equal(config?.notCalled, true);
    assert.match(config?.why ?? "", /__post_init__ of peft\.tuners\.lora\.config\.LoraConfig reaches importers/);
  });

  test("the curated argument behaviour is there", () => {
    assert.deepEqual(allowEntry("copyreg._reconstructor")?.constructs, [0]);
    assert.deepEqual(allowEntry("copyreg._reconstructor")?.calls, [1]);
    assert.deepEqual(allowEntry("copyreg.__newobj__")?.constructs, [0]);
    assert.deepEqual(allowEntry("collections.defaultdict")?.calls, [0]);
    assert.deepEqual(allowEntry("builtins.list")?.iterates, [0]);
    assert.deepEqual(allowEntry("collections.deque")?.iterates, [0]);
    const fromType = allowEntry("torch._tensor._rebuild_from_type_v2")!;
    assert.deepEqual([fromType.calls, fromType.constructs, fromType.state], [[0], [1], 3]);
    assert.equal(allowEntry("torch._utils._set_obj_state")?.state, 1);
    assert.equal(allowEntry("torch.jit._pickle.build_intlist")?.context, "torchscript");
    const generator = allowEntry("numpy.random._pickle.__generator_ctor")!;
    assert.deepEqual([generator.calls, generator.instantiates], [[1], [0]]);
    const bitGenerator = allowEntry("numpy.random._pickle.__bit_generator_ctor")!;
    assert.deepEqual([bitGenerator.calls, bitGenerator.instantiates], [undefined, [0]]);
  });
});
