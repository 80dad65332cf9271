/** Rules for ONNX and TensorFlow (ids MG230–MG259); merged into the catalogue. */
import type { RuleInfo } from "./catalogue.js";

export const GRAPH_FORMAT_RULES = {} as const satisfies Record<string, RuleInfo>;
