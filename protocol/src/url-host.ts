/** A host as it goes into a URL: an IPv6 address in brackets (`[::1]`), a name or IPv4 address as it is. */
export function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
