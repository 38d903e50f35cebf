const SPECIAL = /[&<>"']/;
const SPECIAL_ALL = /[&<>"']/g;
const ENTITY: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text or attribute value made safe for HTML: transcripts carry text that strangers wrote. */
export function escapeHtml(text: string): string {
  // Most strings have nothing to escape; testing first skips the replace callback for them.
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (c) => ENTITY[c] as string) : text;
}
