const NEWLINE = 0x0a;

/**
 * Cuts a byte stream into complete lines. The unfinished last line is kept as its chunks (joined once its newline
 * arrives), so a huge line delivered in many reads costs linear time. Splitting on the newline byte keeps UTF-8 whole.
 */
export class LineSplitter {
  private partial: Buffer[] = [];

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      if (this.partial.length > 0) {
        this.partial.push(chunk.subarray(start, nl));
        lines.push(Buffer.concat(this.partial).toString("utf8"));
        this.partial = [];
      } else {
        lines.push(chunk.toString("utf8", start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.partial.push(Buffer.from(chunk.subarray(start)));
    return lines;
  }

  /** Forgets the unfinished line (the file was truncated or replaced). */
  reset(): void {
    this.partial = [];
  }
}
