/** Rules for safetensors, GGUF and chat templates (ids MG200–MG229); merged into the catalogue. */
import type { RuleInfo } from "./catalogue.js";

export const TENSOR_FORMAT_RULES = {} as const satisfies Record<string, RuleInfo>;
