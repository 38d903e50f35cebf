import { describe, expect, it } from "vitest";
import { isAuthorized, isOwnComment } from "../src/commands/authorize.js";

describe("isAuthorized", () => {
  it("trusts owners, members and collaborators when there is no allow-list", () => {
    for (const a of ["OWNER", "MEMBER", "COLLABORATOR"] as const) {
      expect(isAuthorized({ author: "x", authorAssociation: a })).toBe(true);
    }
    for (const a of ["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "MANNEQUIN", "NONE"] as const) {
      expect(isAuthorized({ author: "x", authorAssociation: a })).toBe(false);
    }
  });

  it("with an allow-list, trusts exactly its logins (case-insensitively), whatever their association", () => {
    const list = ["Alice"];
    expect(isAuthorized({ author: "alice", authorAssociation: "NONE" }, list)).toBe(true);
    expect(isAuthorized({ author: "bob", authorAssociation: "OWNER" }, list)).toBe(false);
    expect(isAuthorized({ author: "alice", authorAssociation: "OWNER" }, [])).toBe(false);
  });
});

describe("isOwnComment", () => {
  it("recognises the bot's login case-insensitively, and nobody while the login is unknown", () => {
    expect(isOwnComment({ author: "Thopter-Bot" }, "thopter-bot")).toBe(true);
    expect(isOwnComment({ author: "alice" }, "thopter-bot")).toBe(false);
    expect(isOwnComment({ author: "thopter-bot" }, undefined)).toBe(false);
  });
});
