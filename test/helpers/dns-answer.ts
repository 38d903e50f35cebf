import dnsPacket from "dns-packet";

/** name → its A and AAAA records. */
export type DnsNames = Record<string, { a: string[]; aaaa: string[] }>;

const RECURSION_DESIRED = 1 << 8;
const RECURSION_AVAILABLE = 1 << 7;
const NXDOMAIN = 3;

/** The answer of a DNS server that knows only `names` (NXDOMAIN otherwise), to one query packet. */
export function answerQuery(query: Buffer, names: DnsNames): Buffer {
  const packet = dnsPacket.decode(query);
  const question = packet.questions?.[0];
  const records = question ? names[question.name.toLowerCase()] : undefined;
  const data = question?.type === "A" ? records?.a : question?.type === "AAAA" ? records?.aaaa : [];
  return dnsPacket.encode({
    type: "response",
    id: packet.id,
    flags: RECURSION_DESIRED | RECURSION_AVAILABLE | (records ? 0 : NXDOMAIN),
    questions: packet.questions,
    answers: (data ?? []).map((address) => ({
      type: question!.type as "A" | "AAAA",
      name: question!.name,
      ttl: 60,
      data: address,
    })),
  });
}
