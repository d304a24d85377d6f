/** The highest seq this process has seen per symbol (published or read); see the publish script. */
export class SeqFloor {
  private readonly highest = new Map<string, number>();

  of(symbol: string): number {
    return this.highest.get(symbol) ?? 0;
  }

  observe(symbol: string, seq: number): void {
    if (seq > this.of(symbol)) this.highest.set(symbol, seq);
  }
}
