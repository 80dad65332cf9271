/**
 * What to do about each rule's finding, one text per rule id (the Record type makes a missing one a
 * compile error). `modelgate rules ID` and the text report show it beside the rule's description.
 */
import type { RuleId } from "./catalogue.js";

const DO_NOT_LOAD_PICKLE =
  "Do not load the file. Get the weights as safetensors from a source you trust, or ask its publisher how it was made; if you made it yourself, save only tensors (state_dict) or convert it with `modelgate convert`.";
const UNKNOWN_NAME =
  "Check the named callable or class: if it is your own or a library's you trust, allow it by exact name under callables.allow in modelgate.yml; otherwise do not load the file.";
const NOT_ANALYSED =
  "Part of the file was not analysed, so it is not cleared. Get a well-formed copy from the publisher; if the file is known good, set the finding aside with an ignore entry (reason and expiry) in modelgate.yml.";
const MALFORMED =
  "The file is malformed: loaders may crash or read memory they should not. Get an intact copy from the publisher, or re-save it with the reference library.";
const ARCHIVE = "Do not extract or load the archive; repack it with an ordinary tool from files you trust, or get it again from the publisher.";
const REMOTE_CODE = "Read the code the configuration names before loading with trust_remote_code; pin the repository to a reviewed commit, or use a model that needs no remote code.";
const CONFIG_TARGET = "Read what the configuration instantiates; remove or replace unknown targets, or allow a known class by exact name under callables.allow in modelgate.yml.";
const TEMPLATE = "Do not render the chat template; replace it with the model family's standard template, or get the model from a source you trust.";
const GRAPH_CODE = "Load the model only where the named code or operator is known and trusted, or export it again without custom code (plain ops, weights only).";

export const REMEDIES: Record<RuleId, string> = {
  MG100: DO_NOT_LOAD_PICKLE,
  MG101: UNKNOWN_NAME,
  MG102: UNKNOWN_NAME,
  MG103: DO_NOT_LOAD_PICKLE,
  MG104: DO_NOT_LOAD_PICKLE,
  MG105: DO_NOT_LOAD_PICKLE,
  MG106: DO_NOT_LOAD_PICKLE,
  MG107: DO_NOT_LOAD_PICKLE,
  MG108: UNKNOWN_NAME,
  MG109: "Do not load the file: loading it would exhaust memory or time. Save the data without the huge allocation, or get it from its publisher again.",
  MG110: "Do not load the file: loaders run opcodes before the break. Get an intact copy; a real checkpoint is never truncated.",
  MG111: NOT_ANALYSED,
  MG112: MALFORMED,
  MG113: "Re-save the file without the trailing bytes, or check with the publisher what they are; loaders ignore them, other readers may not.",
  MG114: "Nothing to do unless you did not expect several streams; each was scanned.",
  MG120: MALFORMED,
  MG121: "Load TorchScript only from sources you trust, with torch.jit.load in a sandbox; for weights alone, use a state_dict saved as safetensors.",
  MG122: "Do not load the TorchScript archive; its code touches files or Python. Export the model again without those operators.",
  MG123: MALFORMED,
  MG124: MALFORMED,
  MG125: DO_NOT_LOAD_PICKLE,
  MG130: "Rename the file to what it is, and load it with the loader for its real format; a pickle named as something safer is a classic disguise, so check where it came from.",
  MG131: "Find out which format the file is meant to be and re-save it in that format alone; loaders disagree about polyglots.",
  MG140: NOT_ANALYSED,
  MG141: NOT_ANALYSED,
  MG142: ARCHIVE,
  MG143: ARCHIVE,
  MG144: ARCHIVE,
  MG150: "Load the array with allow_pickle=False if it should hold numbers; if it must hold objects, treat it as a pickle from that source.",
  MG151: MALFORMED,
  MG170: "Do not load or open the file: ClamAV matched a malware signature. Delete it, and find out how it reached you.",
  MG172: "Static analysis and the load disagree: treat the file by the worse of the two. A dangerous load is ground truth; do not use the file. An inert load of a blocked file does not clear it (payloads can wait or act only when the model is used).",
  MG171: "ClamAV could not check the whole file. Raise clamd's limits (StreamMaxLength, MaxFileSize, MaxScanSize) or the policy's clamav.max_size, or set the finding aside with a reasoned, expiring ignore entry.",
  MG160: "The scan failed on this content, so it is not cleared. Report it (with the file, if you can share it) and do not load the file meanwhile.",
  MG200: MALFORMED,
  MG201: MALFORMED,
  MG202: MALFORMED,
  MG203: MALFORMED,
  MG204: MALFORMED,
  MG205: MALFORMED,
  MG206: MALFORMED,
  MG207: MALFORMED,
  MG208: "Do not load the sharded model: its index names files outside its folder. Fix the index to name only the shards beside it.",
  MG209: MALFORMED,
  MG210: MALFORMED,
  MG211: MALFORMED,
  MG212: NOT_ANALYSED,
  MG213: MALFORMED,
  MG214: MALFORMED,
  MG215: MALFORMED,
  MG216: MALFORMED,
  MG217: MALFORMED,
  MG218: MALFORMED,
  MG220: TEMPLATE,
  MG221: TEMPLATE,
  MG222: TEMPLATE,
  MG223: TEMPLATE,
  MG224: MALFORMED,
  MG225: MALFORMED,
  MG230: "Do not load the model: its external data paths leave the model's folder. Fix the paths to files beside the model, or get it again from the publisher.",
  MG231: MALFORMED,
  MG232: GRAPH_CODE,
  MG233: MALFORMED,
  MG234: NOT_ANALYSED,
  MG235: GRAPH_CODE,
  MG240: GRAPH_CODE,
  MG241: GRAPH_CODE,
  MG242: "Check that the checkpoint operations read and write only the model's own files; export the graph again without them if you only serve it.",
  MG243: MALFORMED,
  MG250: GRAPH_CODE,
  MG260: "Load the Keras model with safe_mode=True (the default) and without custom objects, or rebuild the Lambda layer as a registered layer class you review.",
  MG261: GRAPH_CODE,
  MG262: "Review the custom object the model needs and register only that class; load with safe_mode=True.",
  MG263: "Do not load the model: its config references dangerous Python. Rebuild it from reviewed code.",
  MG264: NOT_ANALYSED,
  MG265: NOT_ANALYSED,
  MG267: "Load the model only with Keras's safe mode on and a current Keras; replace the function reference with an activation, loss or metric, or register your own function as a custom object you review.",
  MG266: "Do not load the model with safe_mode off; replace the TorchModuleWrapper layer or save its weights as safetensors.",
  MG270: REMOTE_CODE,
  MG271: "Nothing to do unless a config makes loaders import it (then it is high): review the code before loading with trust_remote_code.",
  MG272: "Nothing to do unless it is unexpected: loading weights does not run it. If a config makes loaders import it (high), do not load the repository until it is reviewed.",
  MG273: "Replace the link with the file it should point to, inside the folder; tools that follow it read files that were never scanned.",
  MG274: "Load the safetensors file instead of the pickle (use_safetensors=True), and remove the pickle when nothing needs it.",
  MG275: "Fetch the real file (git lfs pull) and scan again: the pointer is not the weights.",
  MG276: CONFIG_TARGET,
  MG277: CONFIG_TARGET,
  MG278: NOT_ANALYSED,
  MG279: "Load the YAML with a safe loader (yaml.safe_load) only, and remove the python/* tags.",
  MG280: NOT_ANALYSED,
  MG281: REMOTE_CODE,
  MG282: REMOTE_CODE,
  MG283: REMOTE_CODE,
};
