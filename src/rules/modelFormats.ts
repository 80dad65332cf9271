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
  MG310: {
    name: "xml-external-entity",
    severity: "high",
    description:
      "An XML model file (PMML, OpenVINO IR) declares external or parameter entities in its DOCTYPE (<!ENTITY … SYSTEM|PUBLIC …>, <!ENTITY % …>) or an external DTD: parsers that resolve them read local files or fetch URLs while parsing (XXE, CWE-611).",
    reference: "https://cwe.mitre.org/data/definitions/611.html",
  },
  MG311: {
    name: "xml-not-analysed",
    severity: "high",
    description:
      "An XML model file could not be fully checked: its prolog (declaration, comments, DOCTYPE) before the root element is longer than the analyser reads or the document ends inside it, or a tag or the file exceeds the bounds of the layer check.",
    reference: "https://www.w3.org/TR/xml/#sec-prolog-dtd",
  },
  MG312: {
    name: "openvino-extension-layer",
    severity: "medium",
    description:
      "An OpenVINO IR layer has a type or opset outside OpenVINO's own operation sets, or names a library: the runtime runs it only through an extension (native code) the application loads.",
    reference: "https://docs.openvino.ai/2024/documentation/openvino-extensibility.html",
  },
} as const satisfies Record<string, RuleInfo>;
