import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

/** The parts of an OpenAPI 3.0 description the validator reads. */
interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: object;
}
interface MediaTypes {
  "application/json"?: { schema?: object };
}
export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: MediaTypes };
  responses: Record<string, { content?: MediaTypes }>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

/** An operation matched from a request: its id, the path template, and the path parameters in it. */
export interface Route {
  method: string;
  template: string;
  operation: Operation;
  pathParams: Record<string, string>;
}

const SPEC_ID = "openapi";
/** Error responses the description leaves out (401, 404, 408, 409, 412, 429, 5xx) are checked against this. */
const ERROR_SCHEMA = { $ref: `${SPEC_ID}#/components/schemas/ErrorResponse` };

/**
 * Makes an OpenAPI 3.0 schema tree plain JSON Schema for ajv: local `$ref`s point into the registered document, and
 * `nullable` without a `type` (which ajv refuses) is dropped, since such a schema accepts null anyway.
 */
function prepare(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(prepare);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$ref" && typeof value === "string" && value.startsWith("#/")) out[key] = `${SPEC_ID}${value}`;
    else if (key === "nullable" && !("type" in node)) continue;
    else out[key] = prepare(value);
  }
  return out;
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message}`).join("; ");
}

/**
 * Validates requests and responses against an OpenAPI 3.0 description: path and query parameters (coerced from
 * strings as the spec's types say; a query parameter the operation does not declare is a problem), JSON request bodies, and response bodies per status. Validators are compiled once
 * per operation and cached.
 */
export class OpenApiValidator {
  private readonly bodies = new Ajv({ strict: false, allErrors: true });
  private readonly params = new Ajv({ strict: false, allErrors: true, coerceTypes: "array" });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly routes: {
    method: string;
    template: string;
    pattern: RegExp;
    keys: string[];
    operation: Operation;
  }[];

  /**
   * @param extraQuery query parameters the vendor documents outside the description, as name prefixes per
   *   operationId (e.g. Fly's `metadata.KEY` filter on Machines_list); any other undeclared parameter is a problem.
   */
  constructor(
    document: OpenApiDocument,
    private readonly extraQuery: Record<string, string[]> = {},
  ) {
    const prepared = prepare(document) as OpenApiDocument;
    addFormats.default(this.bodies);
    this.bodies.addSchema({ $id: SPEC_ID, components: prepared.components });
    this.routes = Object.entries(prepared.paths).flatMap(([template, item]) => {
      const keys: string[] = [];
      const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_match, key: string) => {
        keys.push(key);
        return "([^/]+)";
      });
      const pattern = new RegExp(`^${source}$`);
      return Object.entries(item)
        .filter(([, operation]) => typeof operation === "object" && "responses" in operation)
        .map(([method, operation]) => ({ method: method.toUpperCase(), template, pattern, keys, operation }));
    });
  }

  /** The operation `method pathname` calls (pathname relative to the server URL), or undefined. */
  match(method: string, pathname: string): Route | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(pathname);
      if (!found) continue;
      const pathParams = Object.fromEntries(route.keys.map((key, i) => [key, decodeURIComponent(found[i + 1] ?? "")]));
      return { method, template: route.template, operation: route.operation, pathParams };
    }
    return undefined;
  }

  /** Problems with a request, as sentences; empty when it conforms. */
  validateRequest(route: Route, query: URLSearchParams, body: unknown): string[] {
    const { operation } = route;
    const id = `${route.method} ${route.template}`;
    const problems: string[] = [];
    for (const location of ["path", "query"] as const) {
      const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === location);
      const values: Record<string, unknown> = {};
      for (const parameter of declared) {
        const value = location === "path" ? route.pathParams[parameter.name] : query.get(parameter.name);
        if (value !== undefined && value !== null) values[parameter.name] = value;
      }
      const validate = this.cached(`${id} ${location}`, this.params, () => ({
        type: "object",
        properties: Object.fromEntries(declared.map((parameter) => [parameter.name, parameter.schema ?? {}])),
        required: declared.filter((parameter) => parameter.required).map((parameter) => parameter.name),
      }));
      if (!validate(values)) problems.push(`${location} parameters: ${describe(validate.errors)}`);
    }
    const names = new Set((operation.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name));
    const extra = (this.extraQuery[operation.operationId] ?? []).map(
      (prefix) => (name: string) => name.startsWith(prefix),
    );
    for (const name of new Set(query.keys())) {
      if (!names.has(name) && !extra.some((allowed) => allowed(name)))
        problems.push(`query parameter ${JSON.stringify(name)} is not one ${operation.operationId} declares`);
    }
    const bodySpec = operation.requestBody;
    if (body === undefined) {
      if (bodySpec?.required) problems.push("request body is required");
    } else if (!bodySpec) {
      problems.push("operation takes no request body");
    } else {
      const schema = bodySpec.content?.["application/json"]?.schema;
      const validate = schema && this.cached(`${id} body`, this.bodies, () => schema);
      if (validate && !validate(body)) problems.push(`request body: ${describe(validate.errors)}`);
    }
    return problems;
  }

  /** Problems with a response, as sentences; empty when it conforms. */
  validateResponse(route: Route, status: number, body: unknown): string[] {
    const { operation } = route;
    const id = `${route.method} ${route.template}`;
    const declared = operation.responses[String(status)] ?? operation.responses.default;
    if (!declared) {
      if (status < 400) return [`status ${status} is not a documented response of ${operation.operationId}`];
      const validate = this.cached("error", this.bodies, () => ERROR_SCHEMA);
      return validate(body) ? [] : [`error body (${status}): ${describe(validate.errors)}`];
    }
    const schema = declared.content?.["application/json"]?.schema;
    if (!schema) return [];
    const validate = this.cached(`${id} ${status}`, this.bodies, () => schema);
    return validate(body) ? [] : [`response body (${status}): ${describe(validate.errors)}`];
  }

  private cached(key: string, ajv: Ajv, schema: () => object): ValidateFunction {
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = ajv.compile(schema());
      this.compiled.set(key, validate);
    }
    return validate;
  }
}
