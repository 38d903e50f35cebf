import { describe, expect, it } from "vitest";
import { type OpenApiDocument, OpenApiValidator } from "../../peers/fly/openapi-validator.js";

/** A small OpenAPI 3.0 description with the 3.0-only keywords the validator must cope with. */
const document: OpenApiDocument = {
  paths: {
    "/things/{thing_id}": {
      get: {
        operationId: "Things_show",
        parameters: [
          { name: "thing_id", in: "path", required: true, schema: { type: "string" } },
          { name: "limit", in: "query", schema: { type: "integer" } },
        ],
        responses: {
          "200": { content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } },
        },
      },
    },
  },
  components: {
    schemas: {
      Thing: {
        type: "object",
        required: ["id"],
        properties: {
          id: { type: "string", example: "t1", "x-go-name": "ID" },
          note: { type: "string", nullable: true },
          anything: { nullable: true, description: "nullable without a type" },
        },
      },
      ErrorResponse: { type: "object", properties: { error: { type: "string" } } },
    },
  },
} as unknown as OpenApiDocument;

describe("OpenAPI 3.0 validator of the Fly peer", () => {
  const validator = new OpenApiValidator(document);
  const route = validator.match("GET", "/things/abc")!;

  it("matches a path template and extracts its parameters", () => {
    expect(route.operation.operationId).toBe("Things_show");
    expect(route.pathParams).toEqual({ thing_id: "abc" });
    expect(validator.match("GET", "/things/abc/more")).toBeUndefined();
    expect(validator.match("POST", "/things/abc")).toBeUndefined();
  });

  it("coerces query strings to the declared type and names what is wrong", () => {
    expect(validator.validateRequest(route, new URLSearchParams("limit=5"), undefined)).toEqual([]);
    expect(validator.validateRequest(route, new URLSearchParams("limit=five"), undefined).join()).toMatch(/limit/);
    expect(validator.validateRequest(route, new URLSearchParams(), { unexpected: true })).toEqual([
      "operation takes no request body",
    ]);
  });

  it("accepts null where the description says nullable, ignores example and x- keywords", () => {
    expect(validator.validateResponse(route, 200, { id: "t1", note: null, anything: null })).toEqual([]);
    expect(validator.validateResponse(route, 200, { id: "t1", note: 3 }).join()).toMatch(/\/note must be string/);
    expect(validator.validateResponse(route, 200, { note: "x" }).join()).toMatch(/must have required property 'id'/);
  });

  it("checks undocumented error statuses against ErrorResponse and refuses undocumented successes", () => {
    expect(validator.validateResponse(route, 404, { error: "not found" })).toEqual([]);
    expect(validator.validateResponse(route, 404, { error: 404 }).join()).toMatch(/error must be string/);
    expect(validator.validateResponse(route, 201, {}).join()).toMatch(/not a documented response/);
  });
});
