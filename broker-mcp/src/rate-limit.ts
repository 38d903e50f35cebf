/** At most `max` events in any `windowMs`: the refusal knows exactly when the oldest one expires. */
export class SlidingWindow {
  private readonly events: number[] = [];

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an event and returns null, or returns the time at which one will be allowed again. */
  take(): Date | null {
    const t = this.now();
    while (this.events.length && this.events[0]! <= t - this.windowMs) this.events.shift();
    if (this.events.length >= this.max) return new Date(this.events[0]! + this.windowMs);
    this.events.push(t);
    return null;
  }
}
