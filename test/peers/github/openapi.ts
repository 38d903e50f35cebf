import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

/**
 * GitHub's official OpenAPI description (api.github.com, from `@octokit/openapi`) turned into validators.
 *
 * The description is OpenAPI 3.0: `nullable: true` is rewritten to JSON Schema (a `null` type or an `anyOf`) once at
 * load, and each operation's schemas are compiled by ajv only when first used, then cached, because compiling the
 * whole 13 MB description up front would take far too long.
 */

type Json = Record<string, unknown>;
type Spec = {
  paths: Record<string, Record<string, Json>>;
  components: Record<string, Record<string, Json>>;
  "x-webhooks": Record<string, Record<string, Json>>;
};

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const SPEC_ID = "github";

/** Rewrites OpenAPI 3.0 `nullable` (and `$ref`s into the description) into plain JSON Schema, in place. */
function toJsonSchema(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) toJsonSchema(item);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const schema = node as Json;
  for (const value of Object.values(schema)) toJsonSchema(value);
  if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) schema.$ref = `${SPEC_ID}${schema.$ref}`;
  // A discriminated oneOf (e.g. private-user / public-user) whose branches overlap: ajv cannot read the mapping,
  // and without it an object valid for both would be refused, so the branches are checked as anyOf.
  if (schema.discriminator && Array.isArray(schema.oneOf)) {
    schema.anyOf = schema.oneOf;
    delete schema.oneOf;
  }
  if (schema.nullable !== true) return;
  delete schema.nullable;
  if (typeof schema.type === "string") {
    schema.type = [schema.type, "null"];
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum.push(null);
    return;
  }
  // No `type` beside it (allOf/anyOf/oneOf/$ref): move the schema into an anyOf with null.
  const inner: Json = {};
  for (const key of Object.keys(schema)) {
    if (key === "description" || key === "title") continue;
    inner[key] = schema[key];
    delete schema[key];
  }
  schema.anyOf = [inner, { type: "null" }];
}

/** A path template (`/repos/{owner}/{repo}`) as a regex capturing each parameter, and the parameters' names. */
export function templatePattern(template: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { regex: new RegExp(`^${source}/?$`), names };
}

export interface OperationRef {
  /** The path template exactly as the description writes it, e.g. `/repos/{owner}/{repo}/issues`. */
  template: string;
  method: string;
}

/** One place a request, response or delivery differed from the description. */
export interface SpecViolation {
  operation: string;
  method: string;
  path: string;
  /** `request`, `response` or `webhook`. */
  direction: "request" | "response" | "webhook";
  status?: number;
  errors: string[];
}

/** Every violation, one block each, for a test failure. */
export function describeViolations(violations: SpecViolation[]): string {
  const lines = violations.map(
    (v) =>
      `- ${v.direction} ${v.method} ${v.path}${v.status ? ` → ${v.status}` : ""} (${v.operation}):\n    ${v.errors.join("\n    ")}`,
  );
  return `GitHub peer: ${violations.length} OpenAPI violation(s):\n${lines.join("\n")}`;
}

function describe(where: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, 10).map((e) => {
    const extra = e.keyword === "additionalProperties" ? ` (${String(e.params.additionalProperty)})` : "";
    const allowed = e.keyword === "enum" ? ` (${JSON.stringify(e.params.allowedValues)})` : "";
    return `${where}${e.instancePath || ""} ${e.message ?? e.keyword}${extra}${allowed}`;
  });
}

export class GithubSpec {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  private constructor(private readonly spec: Spec) {
    // strict: false because the description carries OpenAPI-only keywords (example, discriminator, x-github…).
    // Shared components compile once as their own functions (inlineRefs: false) and unoptimized code compiles
    // several times faster; both matter more here than validation speed.
    this.ajv = new Ajv({
      strict: false,
      allErrors: true,
      validateSchema: false,
      inlineRefs: false,
      code: { optimize: false },
    });
    addFormats(this.ajv);
    // Formats the description uses beyond JSON Schema's: OpenAPI number widths and two of GitHub's own.
    for (const name of ["int32", "int64", "double", "binary", "timestamp"]) this.ajv.addFormat(name, true);
    this.ajv.addFormat("repo.nwo", /^[^/\s]+\/[^/\s]+$/);
    this.ajv.addSchema({ $id: SPEC_ID, components: { schemas: spec.components.schemas } });
  }

  private static loaded: GithubSpec | undefined;

  /** The description, parsed and converted once per process (about a second), then shared. */
  static load(): GithubSpec {
    if (!GithubSpec.loaded) {
      const require = createRequire(import.meta.url);
      const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
      const spec = JSON.parse(readFileSync(file, "utf8")) as Spec;
      toJsonSchema(spec.components.schemas);
      GithubSpec.loaded = new GithubSpec(spec);
    }
    return GithubSpec.loaded;
  }

  operation(ref: OperationRef): Json {
    const op = this.spec.paths[ref.template]?.[ref.method.toLowerCase()];
    if (!op) throw new Error(`GitHub's OpenAPI description has no operation ${ref.method} ${ref.template}`);
    return op;
  }

  private matchers: Map<string, { ref: OperationRef; regex: RegExp; params: number }[]> | undefined;

  /** The operation a concrete request path belongs to (the most literal template wins), if GitHub has one. */
  findOperation(method: string, path: string): OperationRef | undefined {
    if (!this.matchers) {
      this.matchers = new Map();
      for (const [template, item] of Object.entries(this.spec.paths)) {
        const { regex, names } = templatePattern(template);
        for (const verb of Object.keys(item)) {
          const list = this.matchers.get(verb.toUpperCase()) ?? [];
          list.push({ ref: { template, method: verb.toUpperCase() }, regex, params: names.length });
          this.matchers.set(verb.toUpperCase(), list);
        }
      }
    }
    const candidates = (this.matchers.get(method) ?? []).filter((m) => m.regex.test(path));
    return candidates.sort((a, b) => a.params - b.params)[0]?.ref;
  }

  operationId(ref: OperationRef): string {
    return String(this.operation(ref).operationId);
  }

  private deref<T>(value: T): T {
    const ref = (value as Json | undefined)?.$ref;
    if (typeof ref !== "string") return value;
    let node: unknown = this.spec;
    for (const part of ref.slice(2).split("/")) node = (node as Json)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    return this.deref(node as T);
  }

  /** Compiles `schema` once under `key`; the schema object is converted (nullable, refs) on first use. */
  private validator(key: string, schema: () => unknown): ValidateFunction {
    let fn = this.cache.get(key);
    if (!fn) {
      const copy = structuredClone(schema());
      toJsonSchema(copy);
      fn = this.ajv.compile(copy as Json);
      this.cache.set(key, fn);
    }
    return fn;
  }

  private parameters(ref: OperationRef): Json[] {
    const list = (this.operation(ref).parameters as Json[] | undefined) ?? [];
    return list.map((p) => this.deref(p));
  }

  /** Names of the query parameters the operation defines. */
  queryParameters(ref: OperationRef): string[] {
    return this.parameters(ref)
      .filter((p) => p.in === "query")
      .map((p) => String(p.name));
  }

  /** Checks path and query parameters and the JSON body of a request; returns what is wrong (empty when valid). */
  validateRequest(
    ref: OperationRef,
    pathParams: Record<string, string>,
    query: URLSearchParams,
    body: unknown,
  ): string[] {
    const errors: string[] = [];
    const params = this.parameters(ref);
    const known = new Set<string>();
    for (const param of params) {
      const name = String(param.name);
      const where = param.in as string;
      if (where !== "path" && where !== "query") continue;
      if (where === "query") known.add(name);
      const raw = where === "path" ? pathParams[name] : (query.get(name) ?? undefined);
      if (raw === undefined) {
        if (param.required) errors.push(`${where} parameter ${name} is required`);
        continue;
      }
      const schema = param.schema as Json;
      const value = schema.type === "integer" || schema.type === "number" ? Number(raw) : raw;
      const check = this.validator(`param ${ref.method} ${ref.template} ${name}`, () => schema);
      if (!check(value)) errors.push(...describe(`${where} parameter ${name}=${JSON.stringify(raw)}:`, check.errors));
    }
    for (const name of query.keys()) {
      if (!known.has(name)) errors.push(`query parameter ${name} is not defined for this operation`);
    }
    const requestBody = this.deref(this.operation(ref).requestBody as Json | undefined);
    const bodySchema = (requestBody?.content as Json | undefined)?.["application/json"] as Json | undefined;
    if (bodySchema && body !== undefined) {
      const check = this.validator(`body ${ref.method} ${ref.template}`, () => bodySchema.schema);
      if (!check(body)) errors.push(...describe("body", check.errors));
    } else if (requestBody?.required && body === undefined) {
      errors.push("a JSON body is required");
    } else if (!bodySchema && body !== undefined) {
      errors.push("this operation takes no request body");
    }
    return errors;
  }

  /**
   * Checks a response status and JSON body. An error status the operation does not declare (GitHub's description
   * lists only some) must still be GitHub's `basic-error` shape with `message` and `documentation_url`; an undeclared success status is a violation.
   */
  validateResponse(ref: OperationRef, status: number, body: unknown): string[] {
    if (status === 304) return body === undefined ? [] : ["a 304 response must not have a body"];
    const responses = this.operation(ref).responses as Record<string, Json>;
    const declared = this.deref(responses[String(status)] ?? responses.default);
    if (!declared) {
      if (status < 400) return [`status ${status} is not a documented response of this operation`];
      // GitHub always sends both fields, though basic-error does not require them.
      const check = this.validator("basic-error", () => ({
        allOf: [{ $ref: "#/components/schemas/basic-error" }, { required: ["message", "documentation_url"] }],
      }));
      return check(body) ? [] : describe(`error body (status ${status})`, check.errors);
    }
    const schema = ((declared.content as Json | undefined)?.["application/json"] as Json | undefined)?.schema;
    if (schema === undefined) return body === undefined ? [] : [`status ${status} is documented without a body`];
    const check = this.validator(`response ${ref.method} ${ref.template} ${status}`, () => schema);
    return check(body) ? [] : describe(`body (status ${status})`, check.errors);
  }

  /** Checks a webhook delivery body against `x-webhooks` (e.g. `issue-comment-created`). */
  validateWebhook(name: string, body: unknown): string[] {
    const post = this.spec["x-webhooks"][name]?.post;
    if (!post) return [`GitHub's OpenAPI description has no webhook ${name}`];
    const content = (this.deref(post.requestBody as Json).content as Json)["application/json"] as Json;
    const check = this.validator(`webhook ${name}`, () => content.schema);
    return check(body) ? [] : describe(`${name} payload`, check.errors);
  }
}
