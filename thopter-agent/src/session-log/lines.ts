const NEWLINE = 0x0a;

/** The longest line kept whole (a transcript line with a few screenshots is some MB). */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** What stands in for a line longer than the limit (a planted file of zeros must not fill the memory). */
export function overlongLine(bytes: number): string {
  return `(a line of ${bytes} bytes, longer than ${MAX_LINE_BYTES}: not shown)`;
}

/**
 * Cuts a byte stream into complete lines. The unfinished last line is kept as its chunks (joined once its newline
 * arrives), so a huge line delivered in many reads costs linear time. Splitting on the newline byte keeps UTF-8 whole.
 * A line longer than `maxLineBytes` is dropped as it grows and comes out as `overlongLine`.
 */
export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const length = this.partialBytes + nl - start;
      if (length > this.maxLineBytes) lines.push(overlongLine(length));
      else if (this.partial.length > 0) {
        this.partial.push(chunk.subarray(start, nl));
        lines.push(Buffer.concat(this.partial).toString("utf8"));
      } else {
        lines.push(chunk.toString("utf8", start, nl));
      }
      this.reset();
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
    return lines;
  }

  private keep(rest: Buffer): void {
    this.partialBytes += rest.length;
    // Past the limit only the count is kept.
    if (this.partialBytes > this.maxLineBytes) this.partial = [];
    else this.partial.push(Buffer.from(rest));
  }

  /** Forgets the unfinished line (the file was truncated or replaced). */
  reset(): void {
    this.partial = [];
    this.partialBytes = 0;
  }
}
