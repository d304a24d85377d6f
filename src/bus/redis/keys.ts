/**
 * Redis key layout, all under one prefix (default `tasa:`; tests use a random one):
 *
 * - `stream:{SYMBOL}`  one stream per symbol holding every channel; entry ID `<seq>-0`, fields
 *                      c (channel), t (publish time, epoch ms), d (JSON data); trimmed with MAXLEN ~.
 * - `seq:{SYMBOL}`     the symbol's last allocated seq.
 * - `marks:{SYMBOL}:P` publisher P's recently applied events (mark -> seq), so that a re-sent event
 *                      is applied once (publish-script.ts); expires an hour after P's last event.
 * - `symbols`          a stream with one entry per symbol ever published, so that '*' readers
 *                      notice new symbols without polling (they XREAD it with the symbol streams).
 * - `latest:KEY`       latest-value cache entries (SET ... PX ttl).
 * - `broadcast:TOPIC`  pub/sub channels (not keys).
 *
 * The braces are Redis Cluster hash tags: a symbol's stream and counter share a slot, so the
 * publish script may touch both. (The `symbols` directory does not; this design targets one
 * Redis server, as the project does.)
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  stream(symbol: string): string {
    return `${this.prefix}stream:{${symbol}}`;
  }

  counter(symbol: string): string {
    return `${this.prefix}seq:{${symbol}}`;
  }

  marks(symbol: string, publisher: string): string {
    return `${this.prefix}marks:{${symbol}}:${publisher}`;
  }

  get directory(): string {
    return `${this.prefix}symbols`;
  }

  latest(key: string): string {
    return `${this.prefix}latest:${key}`;
  }

  topic(topic: string): string {
    return `${this.prefix}broadcast:${topic}`;
  }

  /** The symbol of a stream key, or null for any other key. */
  symbolOfStream(key: string): string | null {
    const head = `${this.prefix}stream:{`;
    return key.startsWith(head) && key.endsWith('}') ? key.slice(head.length, -1) : null;
  }
}
