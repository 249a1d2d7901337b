/**
 * Lines joined in batches. A line built by concatenation is a tree of string pieces; keeping hundreds of
 * thousands of them alive until one final join makes the garbage collector copy millions of pieces. Joining
 * every few thousand lines flattens them while they are still young.
 */
export class TextBuffer {
  private readonly chunks: string[] = [];
  private lines: string[] = [];
  push(line: string): void {
    if (this.lines.push(line) >= 2048) {
      this.chunks.push(this.lines.join(''));
      this.lines = [];
    }
  }
  text(): string {
    this.chunks.push(this.lines.join(''));
    this.lines = [];
    return this.chunks.join('');
  }
}
