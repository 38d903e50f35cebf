import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { offeredTools } from "./classify.js";
import type { MessagesRequest } from "./messages-schema.js";
import type { ToolCall } from "./scenario.js";

// Claude Code's own tool schemas say JSON Schema 2020-12; MCP tools (once loaded through ToolSearch) say draft-07.
// Both are compiled as 2020-12 without their `$schema`: the keywords these input schemas use mean the same in both.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const validators = new Map<string, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const { $schema: _dialect, ...rest } = schema;
  const key = JSON.stringify(rest);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(rest);
    validators.set(key, validate);
  }
  return validate;
}

/**
 * What is wrong with a turn's tool calls, one sentence each: a tool Claude Code did not offer, or input that does not
 * match the schema it offered (the CLI would answer with an input-validation error instead of running the tool).
 * Deferred tools (MCP) come without a schema, so only their name is checked.
 */
export function toolCallProblems(request: MessagesRequest, turn: number, calls: readonly ToolCall[]): string[] {
  const offered = offeredTools(request);
  const schemas = new Map(
    (request.tools ?? []).flatMap((tool) =>
      "input_schema" in tool && typeof tool.input_schema === "object"
        ? [[tool.name, tool.input_schema as Record<string, unknown>]]
        : [],
    ),
  );
  return calls.flatMap((call) => {
    if (!offered.has(call.name))
      return [`turn ${turn} calls ${call.name}, which Claude Code did not offer in this request`];
    const schema = schemas.get(call.name);
    if (!schema) return [];
    let validate: ValidateFunction;
    try {
      validate = validatorFor(schema);
    } catch (error) {
      return [
        `turn ${turn}: the schema Claude Code offered for ${call.name} does not compile: ${(error as Error).message}`,
      ];
    }
    if (validate(call.input)) return [];
    return [`turn ${turn} calls ${call.name} with input its schema refuses: ${ajv.errorsText(validate.errors)}`];
  });
}
