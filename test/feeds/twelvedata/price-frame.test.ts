import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProblem, parseFrame, parsePriceFrame } from '../../../src/feeds/twelvedata/index.ts';

const RECEIVED = 1_709_645_400_750;
const frame = (fields: Record<string, unknown>): string =>
  JSON.stringify({ event: 'price', symbol: 'USD/COP', currency_base: 'US Dollar', currency_quote: 'Colombian Peso', type: 'Physical Currency', ...fields });

describe('parsePriceFrame', () => {
  it('turns a price event into a tick on the exchange timestamp, receive time apart', () => {
    const tick = parsePriceFrame(frame({ timestamp: 1_709_645_400, price: 4012.35, bid: 4011.2, ask: 4013.5 }), RECEIVED);
    assert.deepEqual(tick, { symbol: 'USD/COP', time: 1_709_645_400_000, price: 4012.35, bid: 4011.2, ask: 4013.5, receivedAt: RECEIVED, source: 'twelvedata_ws' });
  });

  it('accepts numeric strings, missing or null bid/ask, escapes and whitespace', () => {
    const tick = parsePriceFrame(' { "event" : "price", "symbol": "USD\\/COP", "timestamp": "1709645400", "price": "4012.5", "bid": null }\n', RECEIVED, 'simulator');
    assert.ok(!isProblem(tick));
    assert.deepEqual([tick.symbol, tick.time, tick.price, tick.bid, tick.ask, tick.source], ['USD/COP', 1_709_645_400_000, 4012.5, null, null, 'simulator']);
  });

  it('reports frames that are not JSON objects as malformed, whatever they are', () => {
    const whole = frame({ timestamp: 1_709_645_400, price: 4012.35 });
    for (const text of [whole.slice(0, whole.length / 2), '', 'null', '[1,2]', '42', '{"event":"price",}', `${whole}x`]) {
      const result = parsePriceFrame(text, RECEIVED);
      assert.ok(isProblem(result) && result.kind === 'malformed_frame', text);
    }
  });

  it('rejects prices and timestamps that cannot be right', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ timestamp: 1_709_645_400_000, price: 4012 }, 'bad_timestamp'],
      [{ timestamp: null, price: 4012 }, 'bad_timestamp'],
      [{ price: 4012 }, 'bad_timestamp'],
      [{ timestamp: 1_709_645_400, price: 0 }, 'bad_price'],
      [{ timestamp: 1_709_645_400, price: -3 }, 'bad_price'],
      [{ timestamp: 1_709_645_400, price: 'abc' }, 'bad_price'],
      [{ timestamp: 1_709_645_400 }, 'bad_price'],
      [{ symbol: '', timestamp: 1_709_645_400, price: 4012 }, 'bad_price'],
    ];
    for (const [fields, kind] of cases) {
      const result = parsePriceFrame(frame(fields), RECEIVED);
      assert.ok(isProblem(result) && result.kind === kind, `${JSON.stringify(fields)} -> ${JSON.stringify(result)}`);
    }
  });

  it('a non-price event is unknown to parsePriceFrame and a message to parseFrame', () => {
    const text = '{"event":"heartbeat","status":"ok"}';
    const asPrice = parsePriceFrame(text, RECEIVED);
    assert.ok(isProblem(asPrice) && asPrice.kind === 'unknown_event');
    assert.deepEqual(parseFrame(text, RECEIVED), { type: 'message', event: 'heartbeat', body: { event: 'heartbeat', status: 'ok' } });
    assert.deepEqual(parseFrame('{"x":1}', RECEIVED), { type: 'message', event: null, body: { x: 1 } });
  });

  it('parseFrame wraps ticks as feed events', () => {
    const event = parseFrame(frame({ timestamp: 1_709_645_401, price: 4000 }), RECEIVED);
    assert.equal(event.type, 'tick');
    assert.equal(event.type === 'tick' && event.tick.time, 1_709_645_401_000);
  });
});
