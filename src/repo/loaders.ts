/**
 * What loaders other than transformers' auto_map import or render from a parsed config (THREATS H4):
 * sentence-transformers `modules.json` module types, diffusers `model_index.json` components and
 * custom pipelines, Keras architecture JSON read by `model_from_json`, and chat templates wherever
 * a loader reads them (`chat_template` as a string, a list of {name, template} or a dict of named
 * templates, at any level). Each check reads a parsed JSON value only; nothing is imported or rendered.
 *
 * What the loaders really read:
 * - sentence-transformers: `modules.json` is a list of {idx, name, path, type}; each `type` that does
 *   not start with "sentence_transformers." goes to transformers' get_class_from_dynamic_module
 *   (`<module>.py` in the repo) when `trust_remote_code or os.path.exists(model_name_or_path)` — a local
 *   folder needs no trust_remote_code — and otherwise to `import_from_string` (any importable module).
 *   Each module's `path` is the folder it loads its own files from. A Router module's folder holds
 *   `router_config.json` (legacy: `config.json`), whose `types` map each route module's folder to a
 *   class path given to `import_from_string`, whose `load` is then called.
 * - diffusers: every `model_index.json` key not starting with "_" whose value is [library, class] is
 *   a component; `library` is a diffusers pipelines submodule, a file `<component>/<library>.py` run as a
 *   custom component, or else `importlib.import_module(library)`. `_class_name` as [module, class] is a
 *   custom pipeline loaded from `<module>.py`. Modular pipelines' `modular_model_index.json` holds
 *   [library, class, spec] whose spec's `type_hint` [library, class] is imported the same way.
 * - sentence-transformers CrossEncoder: config.json's `sbert_ce_default_activation_function` (or
 *   `sentence_transformers.activation_fn`) goes to `import_from_string(...)()`: any importable callable,
 *   called with no arguments. vLLM restricts it to torch.nn.modules "for security reasons".
 * - PEFT: adapter_config.json's `auto_mapping` {base_model_class, parent_library} goes to
 *   `importlib.import_module(parent_library)` and `getattr(…, base_model_class).from_pretrained(…)`
 *   (AutoPeftModel with no task_type); PEFT writes the base model's own module there. A LoRA config's
 *   `megatron_core` (default "megatron.core") goes to `importlib.import_module` for every layer LoRA
 *   wraps when `megatron_config` is set (tuners/lora/tp_layer.py dispatch_megatron; PEFT only asks for
 *   the "megatron." prefix). These are the only config values PEFT imports (0.21: peft_type and
 *   task_type are looked up in PEFT's own mappings, target_modules are names of the model's layers).
 *   Python started in the adapter's folder imports either from there first: megatron/core_compat.py.
 * - Code files loaders import by a fixed name, which no config points at (FIXED_NAME_CODE below):
 *   transformers' `custom_generate/generate.py` replaces `generate()` when the model is loaded with
 *   trust_remote_code (GenerationMixin.load_custom_generate); torch.hub.load(dir, name, source="local")
 *   imports `<dir>/hubconf.py` (hub.py MODULE_HUBCONF, _load_local; no trust prompt for a local
 *   folder, and a GitHub repository's is imported once trusted); diffusers' DiffusionPipeline.
 *   from_pretrained(…, custom_pipeline=<repository or folder>) imports the `pipeline.py` at its top
 *   (CUSTOM_PIPELINE_FILE_NAME, pipeline_utils.py) as the pipeline class.
 * - Keras: `model_from_json` deserializes {class_name, config, module?, registered_name?} objects, like
 *   the config.json of a .keras archive.
 */
import type { ScanContext } from "../formats/context.js";
import { escapesFolder } from "../formats/onnx.js";

/** The libraries diffusers' LOADABLE_CLASSES names: components from them import nothing else. */
const DIFFUSERS_LIBRARIES = new Set(["diffusers", "transformers", "onnxruntime.training"]);
/**
 * Submodules of diffusers.pipelines, which a component may name as its library (`hasattr(pipelines,
 * library)`: e.g. ["stable_diffusion", "StableDiffusionSafetyChecker"]).
 */
const DIFFUSERS_PIPELINE_MODULES = new Set(
  (
    "ace_step allegro animatediff anyflow audioldm audioldm2 aura_flow blip_diffusion bria bria_fibo chroma chronoedit cogvideo " +
    "cogview3 cogview4 consisid consistency_models controlnet controlnet_hunyuandit controlnet_sd3 controlnet_xs cosmos " +
    "dance_diffusion ddim ddpm deepfloyd_if deprecated diffusion_gemma dit dreamlite easyanimate ernie_image flux flux2 " +
    "glm_image helios hidream_image hunyuan_image hunyuan_video hunyuan_video1_5 hunyuandit i2vgen_xl ideogram4 joyimage " +
    "kandinsky kandinsky2_2 kandinsky3 kandinsky5 kolors krea2 latent_consistency_models latent_diffusion latte ledits_pp " +
    "llada2 longcat_audio_dit longcat_image ltx ltx2 lucy lumina lumina2 marigold mochi motif_video musicldm " +
    "nucleusmoe_image omnigen ovis_image pag paint_by_example pia pixart_alpha prx qwenimage sana sana_video " +
    "semantic_stable_diffusion shap_e skyreels_v2 stable_audio stable_audio_3 stable_cascade stable_diffusion " +
    "stable_diffusion_3 stable_diffusion_attend_and_excite stable_diffusion_diffedit stable_diffusion_gligen " +
    "stable_diffusion_k_diffusion stable_diffusion_ldm3d stable_diffusion_panorama stable_diffusion_safe " +
    "stable_diffusion_sag stable_diffusion_xl stable_video_diffusion t2i_adapter text_to_video_synthesis unclip " +
    "unidiffuser visualcloze wan wuerstchen z_image"
  ).split(" "),
);
/** A sentence_transformers module path: dotted identifiers, no private or dunder segment. */
const ST_MODULE_TYPE = /^sentence_transformers(\.[A-Za-z][A-Za-z0-9_]*)+$/;
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Values visited while looking for chat templates in one config (CWE-400). */
const MAX_TEMPLATE_WALK = 1_000_000;

/** Code files loaders import by a fixed name (see the header), each with why: such a file is high wherever it is. */
const FIXED_NAME_CODE: readonly { path: RegExp; why: string }[] = [
  { path: /(^|\/)custom_generate\/generate\.py$/, why: "transformers loads it as the model's generate() (custom_generate, trust_remote_code)" },
  { path: /(^|\/)hubconf\.py$/, why: "torch.hub.load imports it for the folder's entry points (hubconf; no trust prompt for a local folder)" },
  // At the top only: custom_pipeline names a repository (or a folder given as one), and pipeline.py deeper in is ordinary code.
  { path: /^pipeline\.py$/, why: "diffusers imports it as the pipeline class when custom_pipeline names this repository" },
];

/** Why a loader imports the code file at `rel` ("/"-separated) by its name alone, if one does. */
export function importedByName(rel: string): string | undefined {
  return FIXED_NAME_CODE.find((entry) => entry.path.test(rel))?.why;
}

/** A chat template found in a config, with where it was. */
export interface FoundTemplate {
  where: string;
  text: string;
}

/** Receives the repository Python modules a config makes a loader import, with why (for the .py file's finding). */
export type CodeRefSink = (stem: string, why: string) => void;

/**
 * sentence-transformers `modules.json`: a list of modules whose `type` is imported. Any type outside
 * sentence_transformers is code the loader imports (an installed module, or `<module>.py` in the repo).
 */
export function checkSentenceTransformerModules(value: unknown, sink: ScanContext, refs: CodeRefSink): void {
  if (!Array.isArray(value)) {
    sink.report("MG278", `modules.json is ${kind(value)}, not a list of modules; the module types were not checked`);
    return;
  }
  value.forEach((entry, i) => {
    if (!isRecord(entry)) {
      sink.report("MG278", `modules.json entry ${i} is ${kind(entry)}, not a module; it was not checked`);
      return;
    }
    const type = entry["type"];
    const label = typeof entry["name"] === "string" ? `"${entry["name"]}"` : `#${i}`;
    // Each module loads its own files (weights, configs, a whole transformers model) from `path`.
    const path = entry["path"];
    const escape = typeof path === "string" ? escapesFolder(path) : undefined;
    if (escape) {
      sink.report("MG281", `modules.json module ${label} loads its files from "${path}", ${escape}`, { evidence: `modules.json[${i}].path: ${path}` });
    }
    if (typeof type !== "string") {
      sink.report("MG278", `modules.json module ${label} has a type that is ${kind(type)}, not a class path; it was not checked`);
      return;
    }
    if (ST_MODULE_TYPE.test(type)) return;
    const stem = moduleOf(type);
    if (stem) refs(stem, `modules.json makes sentence-transformers import it (module ${label})`);
    const runs = stem ? ` (or runs ${stem}.py from the repository: with trust_remote_code, or without it from a local folder)` : "";
    sink.report("MG281", `modules.json module ${label} has type "${type}", outside sentence_transformers: loading imports it${runs}`, {
      evidence: `modules.json[${i}].type: ${type}`,
    });
  });
}

/**
 * A sentence-transformers Router's config (`router_config.json` in the Router module's folder; its
 * legacy form is a `config.json` with `types` and `structure`): each `types` value is imported
 * (import_from_string: any importable module) and its `load` is called on the subfolder its key names.
 */
export function checkSentenceTransformerRouter(value: unknown, sink: ScanContext, refs: CodeRefSink): void {
  const types = isRecord(value) ? value["types"] : undefined;
  if (!isRecord(types)) {
    sink.report("MG278", `Router config types is ${kind(types)}, not an object of route modules; they were not checked`);
    return;
  }
  for (const [id, type] of Object.entries(types)) {
    const escape = escapesFolder(id);
    if (escape) sink.report("MG281", `Router route module "${id}" loads its files from "${id}", ${escape}`, { evidence: `types.${id}` });
    if (typeof type !== "string") {
      sink.report("MG278", `Router route module "${id}" has a type that is ${kind(type)}, not a class path; it was not checked`);
      continue;
    }
    if (ST_MODULE_TYPE.test(type)) continue;
    const stem = moduleOf(type);
    if (stem) refs(stem, `a Router config makes sentence-transformers import it (route module "${id}")`);
    sink.report("MG281", `Router route module "${id}" has type "${type}", outside sentence_transformers: loading imports it and calls its load()`, {
      evidence: `types.${id}: ${type}`,
    });
  }
}

/**
 * The legacy Router config is a config.json, told from a model's config by a `types` object holding
 * a class path: Router.load imports each one before it reads anything else.
 */
export function isRouterConfig(value: unknown): boolean {
  const types = isRecord(value) ? value["types"] : undefined;
  return isRecord(types) && Object.values(types).some((t) => typeof t === "string" && t.includes("."));
}

/**
 * diffusers `model_index.json`: components as [library, class]; a library outside diffusers and
 * transformers is imported by name or run from the component's folder; `_class_name` as a list is a
 * custom pipeline file.
 */
export function checkDiffusersIndex(value: unknown, sink: ScanContext, refs: CodeRefSink): void {
  if (!isRecord(value)) {
    sink.report("MG278", `model_index.json is ${kind(value)}, not an object; its components were not checked`);
    return;
  }
  const cls = value["_class_name"];
  if (Array.isArray(cls)) {
    const [module, name] = cls;
    const file = typeof module === "string" ? (module.endsWith(".py") ? module : `${module}.py`) : undefined;
    if (file) refs(file.slice(0, -3), "model_index.json names it as the custom pipeline diffusers loads");
    sink.report("MG282", `model_index.json _class_name ${short(cls)} is a custom pipeline: diffusers runs ${file ?? "its module"} to load ${String(name)}`, {
      evidence: `_class_name: ${short(cls)}`,
    });
  } else if (cls !== undefined && (typeof cls !== "string" || !IDENTIFIER.test(cls))) {
    sink.report("MG282", `model_index.json _class_name ${short(cls)} is not a diffusers pipeline class name`, { evidence: `_class_name: ${short(cls)}` });
  }
  for (const [component, spec] of Object.entries(value)) {
    if (component.startsWith("_") || !Array.isArray(spec) || spec.length !== 2) continue;
    const [library, name] = spec;
    if (library === null && name === null) continue; // a component left out (safety_checker: [null, null])
    if (typeof library !== "string" || typeof name !== "string") {
      sink.report("MG282", `model_index.json component "${component}" is ${short(spec)}, not [library, class]`, { evidence: `${component}: ${short(spec)}` });
      continue;
    }
    const knownLibrary = DIFFUSERS_LIBRARIES.has(library) || DIFFUSERS_PIPELINE_MODULES.has(library);
    if (knownLibrary && IDENTIFIER.test(name)) continue;
    if (!knownLibrary) refs(`${component}/${library}`, `model_index.json loads component "${component}" from it (custom component)`);
    const why = knownLibrary
      ? `class "${name}" is not a plain class name`
      : `library "${library}" is neither diffusers nor transformers: diffusers runs ${component}/${library}.py from the repository, or imports "${library}"`;
    sink.report("MG282", `model_index.json component "${component}" ${why}`, { evidence: `${component}: ${short(spec)}` });
  }
}

/**
 * diffusers modular pipelines' `modular_model_index.json`: components as [library, class, spec]; only
 * the spec's `type_hint` [library, class] is imported, by simple_get_class_obj (a diffusers pipelines
 * submodule, else `importlib.import_module(library)`), unless either is None.
 */
export function checkDiffusersModularIndex(value: unknown, sink: ScanContext): void {
  if (!isRecord(value)) {
    sink.report("MG278", `modular_model_index.json is ${kind(value)}, not an object; its components were not checked`);
    return;
  }
  for (const [component, spec] of Object.entries(value)) {
    if (component.startsWith("_") || !Array.isArray(spec) || spec.length !== 3 || !isRecord(spec[2])) continue;
    const hint = spec[2]["type_hint"];
    // Python unpacks any two items into (library, class): a list, or the keys of a two-key object.
    const pair = Array.isArray(hint) ? hint : isRecord(hint) ? Object.keys(hint) : undefined;
    if (pair === undefined || pair.length !== 2 || pair[0] === null || pair[1] === null) continue; // None imports nothing
    const [library, name] = pair;
    if (typeof library === "string" && typeof name === "string" && (DIFFUSERS_LIBRARIES.has(library) || DIFFUSERS_PIPELINE_MODULES.has(library)) && IDENTIFIER.test(name)) continue;
    sink.report("MG282", `modular_model_index.json component "${component}" has type_hint ${short(hint)}: diffusers imports ${typeof library === "string" ? `"${library}"` : "it"} to load the component`, {
      evidence: `${component}.type_hint: ${short(hint)}`,
    });
  }
}

/** A torch.nn activation class, the only thing a CrossEncoder activation names in real configs. */
const TORCH_ACTIVATION = /^torch\.nn\.modules\.[a-z_]+\.[A-Z][A-Za-z0-9]*$/;

/** CrossEncoder's activation function: imported by name and called at load. */
export function checkCrossEncoderActivation(value: unknown, sink: ScanContext): void {
  if (!isRecord(value)) return;
  const st = value["sentence_transformers"];
  const refs: [string, unknown][] = [["sbert_ce_default_activation_function", value["sbert_ce_default_activation_function"]]];
  if (isRecord(st)) refs.push(["sentence_transformers.activation_fn", st["activation_fn"]]);
  for (const [key, ref] of refs) {
    if (ref === undefined || ref === null) continue;
    if (typeof ref === "string" && TORCH_ACTIVATION.test(ref)) continue;
    sink.report("MG281", `${key} is ${short(ref)}: sentence-transformers' CrossEncoder imports it and calls it when the model is loaded`, {
      evidence: `${key}: ${short(ref)}`,
    });
  }
}

/** The module PEFT records for a transformers or diffusers base model: `transformers.models.llama.modeling_llama`. */
const PEFT_PARENT_LIBRARY = /^(transformers\.models|diffusers\.models)(\.[a-z][a-z0-9_]*)+$/;
/** LoraConfig's megatron_core when the config does not set it: Megatron-LM's own package. */
const MEGATRON_CORE = "megatron.core";

/** What a PEFT adapter_config.json makes PEFT import: `auto_mapping` and LoRA's `megatron_core`. */
export function checkPeftConfig(value: unknown, sink: ScanContext, refs: CodeRefSink): void {
  if (!isRecord(value)) return;
  checkPeftAutoMapping(value, sink, refs);
  checkPeftMegatronCore(value, sink, refs);
}

/** PEFT's `auto_mapping`: AutoPeftModel imports `parent_library` and calls `from_pretrained` on the class it names. */
function checkPeftAutoMapping(value: Record<string, unknown>, sink: ScanContext, refs: CodeRefSink): void {
  if (!Object.hasOwn(value, "auto_mapping")) return;
  const mapping = value["auto_mapping"];
  if (mapping === null) return;
  const library = isRecord(mapping) ? mapping["parent_library"] : undefined;
  const cls = isRecord(mapping) ? mapping["base_model_class"] : undefined;
  // Even transformers' and diffusers' module comes from a folder of that name where Python started.
  if (typeof library === "string") importedModule(library, "PEFT's AutoPeftModel imports it (adapter_config.json auto_mapping parent_library)", refs);
  if (typeof library === "string" && PEFT_PARENT_LIBRARY.test(library) && typeof cls === "string" && IDENTIFIER.test(cls)) return;
  sink.report("MG283", `auto_mapping ${short(mapping)}: PEFT's AutoPeftModel imports ${typeof library === "string" ? `"${library}"` : "its parent_library"} and calls ${typeof cls === "string" ? cls : "the named class"}.from_pretrained`, {
    evidence: `auto_mapping: ${short(mapping)}`,
  });
}

/**
 * LoRA's `megatron_core`, imported for each layer LoRA wraps once `megatron_config` is set (to
 * anything Python takes as true). Megatron's own "megatron.core" is how Megatron-LM users load
 * adapters; any other value names a module that is not Megatron's, from the folder or installed.
 */
function checkPeftMegatronCore(value: Record<string, unknown>, sink: ScanContext, refs: CodeRefSink): void {
  if (!pythonTrue(value["megatron_config"])) return;
  const core = Object.hasOwn(value, "megatron_core") ? value["megatron_core"] : MEGATRON_CORE;
  // Not a string: PEFT fails on it (core.startswith) before it imports anything.
  if (typeof core !== "string") return;
  importedModule(core, "PEFT imports it as megatron_core (adapter_config.json sets megatron_config)", refs);
  if (core === MEGATRON_CORE) return;
  sink.report("MG283", `megatron_core ${short(core)} with megatron_config set: PEFT imports "${core}" in place of Megatron's "${MEGATRON_CORE}" when it loads the adapter (from this folder when Python starts here)`, {
    evidence: `megatron_core: ${short(core)}`,
  });
}

/**
 * The repository files `importlib.import_module(module)` runs, to `refs`: each package on the way
 * ("a/__init__" for "a.b.c") and the module itself, as a file or a package ("a/b/c", "a/b/c/__init__").
 * Python started in the config's folder finds them there first. A name import cannot spell names nothing.
 */
export function importedModule(module: string, why: string, refs: CodeRefSink): void {
  const parts = module.split(".");
  if (!parts.every((part) => MODULE_PART.test(part))) return;
  for (let i = 1; i <= parts.length; i++) {
    const stem = parts.slice(0, i).join("/");
    refs(stem, why);
    refs(`${stem}/__init__`, why);
  }
}

/** One dotted part of a module path import_module can find as a file: an identifier (Python's are Unicode). */
const MODULE_PART = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u;

/** Python's truth of a JSON value: None, False, 0, "" and empty lists and dicts are false. */
function pythonTrue(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isRecord(v)) return Object.keys(v).length > 0;
  return true;
}

/** Keras serializes layers and models as {class_name, config}; model_from_json reads exactly that shape. */
export function isKerasArchitecture(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && typeof value["class_name"] === "string" && isRecord(value["config"]);
}

/** Objects looked at for holdsKerasArchitecture before a config counts as holding one (CWE-400). */
const MAX_KERAS_SEARCH = 100_000;

/**
 * Whether Keras's load_model would build a layer from this config.json (a `.keras` zip's, or a model
 * folder's): deserialize_keras_object takes a top-level list item by item, and a dict that is no
 * {class_name, config} value by value, so a model wrapped as `[model]` or `{"x": model}` is built (its
 * Lambda run) before the load fails. A config too large to search counts as holding one.
 */
export function holdsKerasArchitecture(value: unknown): boolean {
  if (isKerasArchitecture(value)) return true;
  let found = false;
  const complete = walkConfig(value, MAX_KERAS_SEARCH, (_node, _key, v) => {
    if (isKerasArchitecture(v)) found = true;
    return !found;
  });
  return found || !complete;
}

/**
 * Every chat template a loader reads from a parsed config: values of `chat_template` keys at any
 * depth (a string, a list of {name, template}, a dict of named templates), and string values of keys
 * ending in "chat_template" (`tokenizer.chat_template`, `default_chat_template`). What is not a template
 * under a `chat_template` key is reported as not checked.
 */
export function findChatTemplates(root: unknown, file: string, sink: ScanContext): FoundTemplate[] {
  const out: FoundTemplate[] = [];
  const where = (node: ConfigNode, key: string): string => `${templatePath(file, node)} ${key}`;
  const complete = walkConfig(root, MAX_TEMPLATE_WALK, (node, key, v) => {
    // What templatesOf reads is not walked again.
    if (key === "chat_template") templatesOf(v, where(node, key), out, sink);
    else if (key.endsWith("chat_template") && typeof v === "string") out.push({ where: where(node, key), text: v });
    else return true;
    return false;
  });
  if (!complete) sink.report("MG278", `${file} has more than ${MAX_TEMPLATE_WALK} values; the rest was not checked for chat templates`);
  return out;
}

/** "tokenizer_config.json chat_template", "serving.json profiles[0].stages chat_template": where a template was found. */
function templatePath(file: string, node: ConfigNode): string {
  let path = file;
  for (const step of stepsTo(node)) path += typeof step === "number" ? `[${step}]` : path === file ? ` ${step}` : `.${step}`;
  return path;
}

/** A key of an object or an index of a list: one step from a container to a value inside it. */
export type PathStep = string | number;

/** An object or list met in a walk, with the way back to the root (the path is built only when a finding needs it). */
export interface ConfigNode {
  value: object;
  parent: ConfigNode | undefined;
  step: PathStep | undefined;
}

/** The steps from the root to `node`. */
export function stepsTo(node: ConfigNode): PathStep[] {
  const steps: PathStep[] = [];
  for (let at: ConfigNode | undefined = node; at?.step !== undefined; at = at.parent) steps.push(at.step);
  return steps.reverse();
}

/**
 * Walks each object and list of a parsed config once (a subtree YAML aliases share, once), depth
 * first and last child first, showing `visit` every key of every object with its value; it descends
 * into the value unless `visit` says false. Visits at most `bound` containers and returns false when
 * it had to stop. Only containers are queued (a vocabulary holds ~100,000 strings), and with a link
 * to their parent instead of a path string: a list of millions of empty objects queues all of them.
 */
export function walkConfig(root: unknown, bound: number, visit: (node: ConfigNode, key: string, value: unknown) => boolean): boolean {
  if (typeof root !== "object" || root === null) return true;
  const seen = new Set<object>();
  const pending: ConfigNode[] = [{ value: root, parent: undefined, step: undefined }];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (seen.has(node.value)) continue;
    if (seen.size >= bound) return false;
    seen.add(node.value);
    if (Array.isArray(node.value)) {
      for (let i = 0; i < node.value.length; i++) {
        const v: unknown = node.value[i];
        if (typeof v === "object" && v !== null) pending.push({ value: v, parent: node, step: i });
      }
    } else {
      // for-in, not Object.entries: JSON.parse makes a vocabulary a dictionary, whose entries cost three times as much.
      const record = node.value as Record<string, unknown>;
      for (const key in record) {
        const v = record[key];
        if (visit(node, key, v) && typeof v === "object" && v !== null) pending.push({ value: v, parent: node, step: key });
      }
    }
  }
  return true;
}

/** transformers saves a template string, a list of {name, template}; in memory it also takes a dict of named templates. */
function templatesOf(value: unknown, where: string, out: FoundTemplate[], sink: ScanContext): void {
  if (typeof value === "string") out.push({ where, text: value });
  else if (Array.isArray(value)) {
    for (const item of value) {
      if (isRecord(item) && typeof item["template"] === "string") out.push({ where: `${where}[${String(item["name"])}]`, text: item["template"] });
      else sink.report("MG278", `${where} list holds an entry that is not {name, template}; it was not checked`);
    }
  } else if (isRecord(value)) {
    for (const [name, text] of Object.entries(value)) {
      if (typeof text === "string") out.push({ where: `${where}[${name}]`, text });
      else sink.report("MG278", `${where}[${name}] is ${kind(text)}, not a template; it was not checked`);
    }
  } else if (value !== null) sink.report("MG278", `${where} is ${kind(value)}, not a template; it was not checked`);
}

/** "pkg.mod.Class" → "pkg/mod" (where get_class_from_dynamic_module looks for the file); undefined without a module. */
function moduleOf(ref: string): string | undefined {
  const local = ref.includes("--") ? ref.slice(ref.indexOf("--") + 2) : ref;
  const dot = local.lastIndexOf(".");
  return dot > 0 ? local.slice(0, dot).replace(/\./g, "/") : undefined;
}

/**
 * The files and folders a loader reads by path from a parsed config named `name`, as written,
 * relative to the config's folder ("unet", "model-00001-of-00002.bin", "" for the folder itself):
 * the shard files of a `*.index.json` weight_map (transformers and diffusers read
 * `join(folder, shard)`, so a shard may sit in a subfolder), the component folders of a diffusers
 * `model_index.json`, each module's `path` in a sentence-transformers `modules.json`, and each route
 * module's folder in a sentence-transformers `router_config.json`.
 */
export function loadedPaths(name: string, value: unknown): string[] {
  const lower = name.toLowerCase();
  if (lower.endsWith(".index.json") && isRecord(value) && isRecord(value["weight_map"])) {
    // A large model's weight_map has ~100,000 entries naming a few dozen shards (for-in: see checkSafetensorsIndex).
    const weightMap = value["weight_map"];
    const shards = new Set<string>();
    for (const tensor in weightMap) {
      const shard = weightMap[tensor];
      if (typeof shard === "string") shards.add(shard);
    }
    return [...shards];
  }
  let found: unknown[] = [];
  if (lower === "model_index.json" && isRecord(value)) {
    found = Object.entries(value)
      .filter(([component, spec]) => !component.startsWith("_") && Array.isArray(spec) && spec.length === 2 && !(spec[0] === null && spec[1] === null))
      .map(([component]) => component);
  } else if (lower === "modules.json" && Array.isArray(value)) found = value.map((entry) => (isRecord(entry) ? entry["path"] : undefined));
  else if ((lower === "router_config.json" || (lower === "config.json" && isRouterConfig(value))) && isRecord(value) && isRecord(value["types"])) {
    found = Object.keys(value["types"]);
  }
  return [...new Set(found.filter((path): path is string => typeof path === "string"))];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}
