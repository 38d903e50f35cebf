import { describe, expect, it } from "vitest";
import { REDACTED, redactRendered } from "../src/index.js";

const TOKEN = "ghp_Q9vX2mLk7RtY4wZ8nB3cD6fH1jK5pS0aEuGi";
const OTHER = "d2b0c7e4a19f3856b7c2e0d4f1a3958c6e2d7b40";

/** The token written so that GitHub renders it as the token, though the text never contains it. */
const disguises: Array<[string, string]> = [
  ["an HTML comment", `gh<!-- -->p_${TOKEN.slice(4)}`],
  ["an empty tag", `ghp<b></b>_${TOKEN.slice(4)}`],
  ["a numeric entity", `ghp&#95;${TOKEN.slice(4)}`],
  ["a hex entity", `&#x67;hp_${TOKEN.slice(4)}`],
  ["a named entity", `ghp&lowbar;${TOKEN.slice(4)}`],
  ["a mathematical letter entity", `&gopf;hp_${TOKEN.slice(4)}`],
  ["an entity of an entity", `ghp&amp;#95;${TOKEN.slice(4)}`],
  ["zero-width joiners", [...TOKEN].join("\u200d")],
  ["a zero-width space and a soft hyphen", `gh\u200bp\u00ad_${TOKEN.slice(4)}`],
  ["full-width letters", [...TOKEN].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join("")],
  ["percent-encoding", `ghp%5F${TOKEN.slice(4)}`],
  ["percent-encoding of every character", [...TOKEN].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("")],
  ["a markdown escape", `ghp\\_${TOKEN.slice(4)}`],
  ["base64", Buffer.from(TOKEN).toString("base64")],
  ["base64 inside a longer text", Buffer.from(`x-access-token:${TOKEN}`).toString("base64")],
  ["URL-safe base64 at another alignment", Buffer.from(`ab${TOKEN}?>`).toString("base64url")],
  ["hex", Buffer.from(TOKEN).toString("hex")],
  ["upper-case hex", Buffer.from(TOKEN).toString("hex").toUpperCase()],
];

/** What a reader of the rendered comment could copy: tags and comments gone, entities and escapes decoded. */
function renderedForms(text: string): string[] {
  const plain = text
    .replace(/<!--[\s\S]*?(-->|$)/g, "")
    .replace(/<[^>]*>/g, "")
    .replace(/\\_/g, "_")
    .replace(/&amp;/g, "&")
    .replace(/&#95;|&lowbar;/g, "_")
    .replace(/&#x67;|&gopf;/g, "g")
    .replace(/[\u200b-\u200d\u00ad]/g, "")
    .normalize("NFKC");
  return [plain, decodeURIComponent(plain.replace(/%(?![\da-f]{2})/gi, "%25"))];
}

describe("redaction of rendered text", () => {
  it.each(disguises)("finds the secret written with %s, and keeps the text around it", (_, disguised) => {
    const out = redactRendered(`before ${disguised} after`, [TOKEN, OTHER]);
    expect(out).toMatch(/^before .*\[REDACTED\].* after$/);
    for (const form of [...renderedForms(out), Buffer.from(out, "base64").toString("latin1")]) {
      expect(form).not.toContain(TOKEN.slice(4, 24));
    }
    expect(out).not.toContain(Buffer.from(TOKEN).toString("hex").slice(0, 20));
  });

  it("finds unknown tokens by their shape once rendered, as in plain text", () => {
    const unknown = `github_pat_${"A1b2C3d4".repeat(4)}`;
    for (const disguised of [
      unknown,
      `github&#95;pat_${"A1b2C3d4".repeat(4)}`,
      `sk-ant-\u200bapi03-${"z".repeat(30)}`,
    ]) {
      expect(redactRendered(`see ${disguised}.`)).toBe(`see ${REDACTED}.`);
    }
    expect(redactRendered("clone https://bot:pa%40ss@example.com/r.git")).toBe(
      `clone https://bot:${REDACTED}@example.com/r.git`,
    );
  });

  it("leaves ordinary markdown, entities, links and encodings alone", () => {
    const text =
      "Fixed `a < b` &amp; 100%25 of cases \\_not_ emphasised <!-- note --> see https://x.io/a%20b, café ﬁle, " +
      `${Buffer.from("just some words here").toString("base64")} deadbeefcafe`;
    expect(redactRendered(text, [TOKEN, OTHER])).toBe(text);
  });

  it("keeps secrets shorter than the minimum as they are, and only the secret itself when it is short", () => {
    expect(redactRendered("abc and abc", ["abc"])).toBe("abc and abc");
    expect(redactRendered("key=hunter22 and aHVudGVyMjI=", ["hunter22"])).toBe(`key=${REDACTED} and aHVudGVyMjI=`);
  });
});
