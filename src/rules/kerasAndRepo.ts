/** Rules for Keras and repository-level checks (ids MG260–MG299); merged into the catalogue. */
import type { RuleInfo } from "./catalogue.js";

export const KERAS_AND_REPO_RULES = {} as const satisfies Record<string, RuleInfo>;
