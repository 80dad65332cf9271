/** The `rules` command: the catalogue, or one rule explained (what it means, why it matters, what to do). */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { RULE_IDS, RULES, type RuleId } from "../rules/catalogue.js";
import { REMEDIES } from "../rules/remedies.js";
import { ExitCode } from "./exitCode.js";

export function registerRules(program: Command, setExitCode: (code: ExitCode) => void): void {
  program
    .command("rules")
    .description("List the rules, or explain one: what it means, why it matters, what to do.")
    .argument("[id]", "a rule id such as MG100 (case-insensitive)")
    .action((id: string | undefined) => {
      if (id === undefined) {
        for (const rule of RULE_IDS) process.stdout.write(`${rule}  ${RULES[rule].severity.padEnd(8)}  ${RULES[rule].name}\n`);
      } else {
        const rule = id.toUpperCase();
        if (!Object.hasOwn(RULES, rule)) throw new UsageError(`no rule ${id}; \`modelgate rules\` lists them`);
        process.stdout.write(explain(rule as RuleId));
      }
      setExitCode(ExitCode.Pass);
    });
}

function explain(id: RuleId): string {
  const rule = RULES[id];
  return [`${id} ${rule.name} (default severity: ${rule.severity})`, "", rule.description, "", `What to do: ${REMEDIES[id]}`, "", `Reference: ${rule.reference}`, ""].join("\n");
}
