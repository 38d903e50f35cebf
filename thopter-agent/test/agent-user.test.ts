import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { agentUser } from "../src/boot/agent-user.js";

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)("the agent user boot drops to (root only)", () => {
  it("is the user THOPTER_AGENT_USER names (a local thopter's own), else thopter", () => {
    const uidOf = (name: string) => Number(execFileSync("id", ["-u", name], { encoding: "utf8" }));
    expect(agentUser({})).toMatchObject({ name: "thopter", uid: uidOf("thopter"), drop: true });
    expect(agentUser({ THOPTER_AGENT_USER: "nobody" })).toMatchObject({ name: "nobody", uid: uidOf("nobody") });
  });

  it("refuses a name that is no user name, a user that does not exist, and root, saying what to do", () => {
    expect(() => agentUser({ THOPTER_AGENT_USER: "../etc" })).toThrow(
      'THOPTER_AGENT_USER="../etc" is not a Unix user name: unset it or name the agent\'s user',
    );
    expect(() => agentUser({ THOPTER_AGENT_USER: "thopter-no-such-user" })).toThrow(
      "the agent user thopter-no-such-user does not exist",
    );
    expect(() => agentUser({ THOPTER_AGENT_USER: "root" })).toThrow("the agent user root must not be root");
  });
});
