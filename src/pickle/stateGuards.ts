/**
 * Classes whose `__setstate__` executes part of the restored state. SciPy's distributions
 * (`rv_generic` and every `*_gen` subclass) `exec()` the `_parse_arg_template` string of their
 * `__dict__` to define three argument parsers: a frozen distribution in a statsmodels result or a
 * scikit-learn search space pickles it, and a crafted state runs arbitrary code through it. Such a
 * class is allowlisted with a guard: BUILD may give it a state only if the executed part is
 * exactly what the library itself writes, so that executing it defines those parsers and nothing else.
 */
import type { Value } from "./values.js";

/** The guards an allowlist entry can name (`stateGuard`). */
export type StateGuard = "scipy-argparser";

/** Python identifiers followed by ", " (SciPy's shape_arg_str: "a, b, " or ""). */
const SHAPES = "((?:[A-Za-z_][A-Za-z0-9_]*, )*)";
/**
 * scipy.stats._distn_infrastructure.parse_arg_template with its three fields: the shape names,
 * then the location/scale parameters of a continuous ("loc=0, scale=1" / "loc, scale") or
 * discrete ("loc=0" / "loc, 1") distribution. Back-references hold every field to one value.
 */
const SCIPY_ARGPARSER = new RegExp(
  "^\\ndef _parse_args\\(self, " + SHAPES + " (loc=0, scale=1|loc=0)\\):\\n" +
    "    return \\(\\1\\), (loc, scale|loc, 1)\\n\\n" +
    "def _parse_args_rvs\\(self, \\1 \\2, size=None\\):\\n" +
    "    return self\\._argcheck_rvs\\(\\1 \\3, size=size\\)\\n\\n" +
    "def _parse_args_stats\\(self, \\1 \\2, moments='mv'\\):\\n" +
    "    return \\(\\1\\), \\3, moments\\n$",
);
/** Longer than any real template (a few hundred characters): not matched at all. */
const MAX_TEMPLATE = 8192;
const TEMPLATE_KEY = "_parse_arg_template";

/** Why `state`, given by BUILD to an object of a guarded class, is not safe to restore; undefined when it is. */
export function stateProblem(guard: StateGuard, state: Value): string | undefined {
  switch (guard) {
    case "scipy-argparser":
      return scipyArgparserProblem(state);
  }
}

function scipyArgparserProblem(state: Value): string | undefined {
  // __dict__.update() also takes a sequence of pairs; only the dict SciPy writes can be checked.
  if (typeof state !== "object" || state === null || state.t !== "dict") return `its state is not a dict, so the ${TEMPLATE_KEY} it executes cannot be checked`;
  if (state.kv.length / 2 < state.n) return `its state has more items than the scanner keeps (${state.n}), so the ${TEMPLATE_KEY} it executes cannot be checked`;
  let named = false;
  for (let i = 0; i < state.kv.length; i += 2) {
    const key = state.kv[i];
    if (typeof key !== "string") {
      // A key made at load time (a str subclass, a call) may equal the template key: nothing to compare.
      if (typeof key === "object" && key !== null) return `its state has a key made at load time (${key.t}), which may name ${TEMPLATE_KEY}`;
      continue;
    }
    if (key !== TEMPLATE_KEY) continue;
    named = true;
    const template = state.kv[i + 1];
    if (typeof template !== "string") return `its ${TEMPLATE_KEY}, which __setstate__ executes, is not a constant string`;
    if (template.length > MAX_TEMPLATE || !SCIPY_ARGPARSER.test(template)) {
      return `its ${TEMPLATE_KEY}, which __setstate__ executes, is not SciPy's argument-parser template: ${JSON.stringify(template.slice(0, 120))}`;
    }
  }
  // SciPy writes the template into every distribution's state. Without it, __setstate__ executes
  // whatever the object already holds, which another route (an attribute setter, a shadowed
  // method) may have planted out of the guard's sight.
  if (!named) return `its state does not set ${TEMPLATE_KEY}, so __setstate__ executes whatever template the object already holds`;
  return undefined;
}
