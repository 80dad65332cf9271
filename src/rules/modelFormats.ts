/**
 * Rules for skops schemas and XML model formats (PMML, OpenVINO IR) (ids MG300–MG319); merged into
 * the catalogue. Names a skops schema imports are judged by the pickle rules (MG100–MG104): these
 * rules cover what is particular to the formats.
 */
import type { RuleInfo } from "./catalogue.js";

export const MODEL_FORMAT_RULES = {
  MG300: {
    name: "skops-schema-unreadable",
    severity: "high",
    description:
      "A skops schema.json is not valid JSON, is not a tree of skops nodes (a __loader__ with string __module__ and __class__), or exceeded a bound of the analyser (size, nesting, node count); it was not fully judged.",
    reference: "https://skops.readthedocs.io/en/stable/persistence.html",
  },
} as const satisfies Record<string, RuleInfo>;
