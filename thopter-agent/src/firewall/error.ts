/** A reason the firewall was not applied: one line, naming what is wrong and what to do. Boot must stop on it. */
export class FirewallError extends Error {
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "FirewallError";
  }
}
