/**
 * When the ingest counts a symbol's slots as covered (watched whole, so a bar is complete), on a
 * feed the test plays event by event with a manual clock: a symbol is covered from the server's
 * confirmation of its subscription, never from a connection's open, and a stall that ends does not
 * cover a symbol the server has not confirmed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createMemoryBus } from '../../src/bus/index.ts';
import { ManualClock } from '../../src/clock.ts';
import { BAR_MS, type Bar } from '../../src/domain/bar.ts';
import { CalendarSet, MarketCalendar } from '../../src/domain/calendar.ts';
import { shippedInstrument } from '../../src/domain/symbol.ts';
import type { Tick } from '../../src/domain/tick.ts';
import type { FeedEvent, LiveFeed } from '../../src/feeds/feed-events.ts';
import { IngestService } from '../../src/ingest/ingest-service.ts';
import { barsBetween } from '../../src/store/bars-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { databaseTargets } from '../support/test-db.ts';
import { waitFor } from '../support/wait-for.ts';

const logger = pino({ level: 'silent' });
const BRL = 'USD/BRL';
const COP = 'USD/COP';
const calendars = new CalendarSet([BRL, COP].map((symbol) => new MarketCalendar({}, shippedInstrument(symbol))));
/** Both markets are open: USD/BRL since 12:00, USD/COP since 13:00 UTC. */
const START = Date.parse('2026-03-03T13:30:00Z');
const SEC = 1000;

/** A feed whose events the test pushes one by one. */
class PushFeed implements LiveFeed {
  private readonly queue: FeedEvent[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  push(event: FeedEvent): void {
    this.queue.push(event);
    this.wake?.();
  }

  async *events(): AsyncIterable<FeedEvent> {
    while (!this.closed) {
      const event = this.queue.shift();
      if (event !== undefined) yield event;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  subscribe(): void {}
  unsubscribe(): void {}
  close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    return Promise.resolve();
  }
}

function tick(symbol: string, time: number, price: number): FeedEvent {
  const t: Tick = { symbol, time, price, bid: price - 0.01, ask: price + 0.01, receivedAt: time, source: 'simulator' };
  return { type: 'tick', tick: t };
}

for (const target of databaseTargets()) {
  describe(`ingest coverage on ${target.name}`, () => {
    let db: Db;
    before(async () => {
      db = await target.open();
    });
    after(async () => {
      await db?.close();
    });

    it('covers a symbol from its confirmed subscription, and a stall that ends does not cover an unconfirmed one', async () => {
      const clock = new ManualClock(START);
      const feeds: PushFeed[] = [];
      const ingest = new IngestService({
        db,
        bus: createMemoryBus({ clock }),
        clock,
        calendar: calendars,
        logger,
        symbols: [BRL, COP],
        holder: `coverage-${target.name}`,
        spoolPath: join(mkdtempSync(join(tmpdir(), 'coverage-')), 'spool.jsonl'),
        readiness: { waitForL0Ms: 0 },
        openFeed: () => {
          const feed = new PushFeed();
          feeds.push(feed);
          return feed;
        },
      });
      ingest.start();
      try {
        await waitFor(() => feeds.length === 1, () => 'the feed opened');
        const feed = feeds[0] as PushFeed;
        // The connection opens and the server confirms USD/BRL only: USD/COP's subscribe is unanswered.
        feed.push({ type: 'status', state: 'connected' });
        feed.push({ type: 'subscription', success: [BRL], failed: [] });
        await clock.advance(10 * SEC);
        // The socket carried nothing for a while, then frames again: a stall that ended.
        feed.push({ type: 'silence', from: START + 20 * SEC, to: START + 40 * SEC });
        await clock.advance(40 * SEC);
        const slot = START + BAR_MS;
        for (const [offset, price] of [
          [10, 5.01],
          [70, 5.02],
          [130, 5.03],
        ] as const) {
          feed.push(tick(BRL, slot + offset * SEC, price));
          feed.push(tick(COP, slot + offset * SEC, 4000 + price));
        }
        await clock.advanceTo(slot + BAR_MS + 5 * SEC);
        const stored = async (symbol: string): Promise<Bar | undefined> => (await barsBetween(db, symbol, slot, slot + BAR_MS)).find((b) => b.time === slot);
        await waitFor(async () => (await stored(BRL)) !== undefined && (await stored(COP)) !== undefined, () => 'both bars of the slot after the stall are stored');
        const brl = await stored(BRL);
        const cop = await stored(COP);
        assert.deepEqual([brl?.coverage, brl?.flags], [1, []], 'USD/BRL, confirmed, watched its whole slot');
        assert.equal(cop?.coverage, 0, 'USD/COP was never confirmed: nothing of its slot counts as watched');
        assert.ok(cop?.flags.includes('partial'), 'so its bar is partial, for the failsafe to replace');
      } finally {
        await ingest.stop();
      }
    });
  });
}
