/** Every way a reader could decode `text` back: rendered markup and escapes, and base64 or hex runs in it. */
export function readings(text: string): string[] {
  const rendered = text
    .replace(/<!--[\s\S]*?-->|<[^>]*>/g, "")
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&lowbar;/g, "_")
    .replace(/\\(?=_)/g, "")
    .replace(/\p{Cf}/gu, "")
    .normalize("NFKC");
  const decoded = decodeURIComponent(rendered.replace(/%(?![\da-f]{2})/gi, "%25"));
  const runs = text.match(/[A-Za-z0-9+/=]{16,}/g) ?? [];
  return [
    text,
    rendered,
    decoded,
    ...runs.flatMap((r) => [Buffer.from(r, "base64"), Buffer.from(r, "hex")].map(String)),
  ];
}
