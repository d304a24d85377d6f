/**
 * The trading CLI as a user runs it: `tasa` in a child process against a real test server on a
 * real port, whose trading engine fills orders on ticks published on its bus. The CLI only talks
 * HTTP, so one store (PGlite) is enough here; the routes themselves run on both in
 * test/server/trading-routes.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { toIsoUtc } from '../../src/domain/time.ts';
import type { Db } from '../../src/store/db.ts';
import { freePort } from '../support/free-port.ts';
import { databaseTargets } from '../support/test-db.ts';
import { startTestServer, type TestServer } from '../support/test-server.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SYMBOL = 'USD/COP';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tasa ...args` with this environment; resolves with its exit code and output whatever the code. */
function tasa(args: string[], env: Record<string, string>): Promise<Result> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TASA_LOG_LEVEL: 'silent', ...env };
  for (const name of ['TASA_API_URL', 'TASA_TOKEN']) if (!(name in env)) delete childEnv[name];
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function oneSentence(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${stderr}`);
  return lines[0] ?? '';
}

describe('tasa trading commands against a running server', { concurrency: false }, () => {
  let db: Db;
  let ts: TestServer;
  let url: string;
  let trader: string;
  let admin: string;

  const tick = async (bid: number, ask: number) => {
    await ts.clock.advance(1_000);
    const now = toIsoUtc(ts.clock.now());
    await ts.deps.bus.publish('ticks', SYMBOL, { symbol: SYMBOL, price: (bid + ask) / 2, bid, ask, spread: ask - bid, timestamp: now, receivedAt: now, source: 'simulator' });
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      await ts.deps.trading.service()?.idle();
    }
  };
  const asTrader = (args: string[]) => tasa(args, { TASA_API_URL: url, TASA_TOKEN: trader });
  const ordersJson = async (args: string[] = []) => {
    const res = await tasa(['orders', '--format', 'json', '--url', url, ...args], {});
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as Array<{ id: number; clientOrderId: string; status: string; filledQuantity: string }>;
  };

  before(async () => {
    const target = databaseTargets()[0];
    assert.ok(target !== undefined);
    db = await target.open();
    ts = await startTestServer({ db, listen: true });
    url = ts.url ?? assert.fail('the test server listens');
    trader = await ts.token('trader');
    admin = await ts.token('admin');
    await tick(4000, 4001);
  });
  after(async () => {
    await ts?.close();
    await db?.close();
  });

  it('buys at market: the order is accepted, fills on the next tick, and orders, positions and fills list it', async () => {
    const placed = await asTrader(['order', 'buy', '1000', '--client-id', 'cli-m1']);
    assert.equal(placed.code, 0, placed.stderr);
    assert.match(placed.stdout, /^order \d+ \(cli-m1\): buy 1000\.00 USD USD\/COP market DAY, accepted\n$/);
    assert.ok(!placed.stdout.includes(trader) && !placed.stderr.includes(trader), 'the token is never printed');
    await tick(4002, 4003);

    const orders = await ordersJson();
    assert.deepEqual(orders.map((o) => [o.clientOrderId, o.status, o.filledQuantity]), [['cli-m1', 'filled', '1000.00']]);
    const positions = await tasa(['positions', '--format', 'csv', '--url', url], {});
    assert.equal(positions.code, 0, positions.stderr);
    assert.match(positions.stdout, /^symbol,quantity,averagePrice,markPrice,marketValue,unrealizedPnl,realizedPnl\nUSD\/COP,1000\.00,/);
    const fills = await tasa(['fills', '--format', 'json', '--url', url], {});
    assert.equal(fills.code, 0, fills.stderr);
    assert.deepEqual((JSON.parse(fills.stdout) as Array<{ clientOrderId: string; quantity: string }>).map((f) => [f.clientOrderId, f.quantity]), [['cli-m1', '1000.00']]);
    const account = await tasa(['account', '--format', 'csv', '--url', url], {});
    assert.equal(account.code, 0, account.stderr);
    assert.match(account.stdout, /^field,value\ncash,/);
    const pnl = await tasa(['pnl', '--from', '2024-01-01', '--to', '2024-01-02', '--format', 'json', '--url', url], {});
    assert.equal(pnl.code, 0, pnl.stderr);
    assert.ok(Array.isArray(JSON.parse(pnl.stdout)));
  });

  it('places a limit order, lists it as open, and cancels it', async () => {
    const placed = await asTrader(['order', 'buy', '500', '--type', 'limit', '--limit', '3990.5', '--tif', 'GTC', '--client-id', 'cli-l1']);
    assert.equal(placed.code, 0, placed.stderr);
    assert.match(placed.stdout, /buy 500\.00 USD USD\/COP limit at 3990\.5000 GTC, accepted/);
    const open = await ordersJson(['--open']);
    assert.deepEqual(open.map((o) => o.clientOrderId), ['cli-l1']);
    const id = String(open[0]?.id);

    const cancelled = await asTrader(['order', 'cancel', id]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /, cancelled/);
    assert.deepEqual(await ordersJson(['--open']), []);
    const again = await asTrader(['order', 'cancel', id]);
    assert.equal(again.code, 2);
    assert.match(oneSentence(again.stderr), /^error: /);
  });

  it('halts and resumes for an admin only: no token or a trader token gets one sentence and exit 2', async () => {
    const anonymous = await tasa(['halt', '--url', url], {});
    assert.equal(anonymous.code, 2);
    assert.match(oneSentence(anonymous.stderr), /^error: This route needs a token: .+ Set TASA_TOKEN to a token from `tasa token create`\.$/);
    const refused = await asTrader(['halt', '--reason', 'drill']);
    assert.equal(refused.code, 2);
    assert.equal(oneSentence(refused.stderr), 'error: This route needs the admin role; the token has trader.');

    const halted = await tasa(['halt', '--reason', 'drill'], { TASA_API_URL: url, TASA_TOKEN: admin });
    assert.equal(halted.code, 0, halted.stderr);
    assert.match(halted.stdout, /^trading HALTED since .+: drill\n$/);
    const denied = await asTrader(['order', 'sell', '10']);
    assert.equal(denied.code, 2);
    assert.match(oneSentence(denied.stderr), /^error: Order .+ was denied: .+/);

    const resumed = await tasa(['resume', '--url', url], { TASA_TOKEN: admin });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /^trading ACTIVE since .+: resumed from the CLI\n$/);
  });

  it('refuses a bad quantity or order type with the reason and exit 2', async () => {
    const before = (await ordersJson()).length;
    const bad = await asTrader(['order', 'buy', 'lots']);
    assert.equal(bad.code, 2);
    assert.match(oneSentence(bad.stderr), /^error: .*quantity/);
    const badType = await asTrader(['order', 'buy', '10', '--type', 'iceberg']);
    assert.equal(badType.code, 2);
    assert.equal(oneSentence(badType.stderr), 'error: --type must be one of market, limit, stop, not "iceberg".');
    assert.equal((await ordersJson()).length, before, 'nothing stored');
  });

  it('lists orders newest first, all of them page by page or --limit of them', async () => {
    const all = await ordersJson();
    assert.ok(all.length >= 2, `orders so far: ${all.length}`);
    assert.deepEqual(all.map((o) => o.id), [...all.map((o) => o.id)].sort((a, b) => b - a), 'newest first');
    assert.deepEqual(await ordersJson(['--limit', '1']), all.slice(0, 1));
    const bad = await tasa(['orders', '--limit', '0', '--url', url], {});
    assert.equal(bad.code, 2);
    assert.equal(oneSentence(bad.stderr), 'error: --limit must be a whole number >= 1, not "0".');
  });

  it('starts, lists and stops a strategy; an unknown policy is refused with the reason and exit 2', async () => {
    const started = await asTrader(['strategy', 'start', 'cli-flat', '--policy', 'flat', '--symbol', SYMBOL, '--notional', '1000']);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /^strategy cli-flat: flat on USD\/COP, 1000(\.00)? USD, running$/m);
    const listed = await tasa(['strategies', '--format', 'json', '--url', url], {});
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Array<{ id: string; running: boolean | null }>;
    assert.deepEqual(rows.find((r) => r.id === 'cli-flat')?.running, true);
    const stopped = await asTrader(['strategy', 'stop', 'cli-flat']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /, stopped$/m);
    const bad = await asTrader(['strategy', 'start', 'cli-bad', '--policy', 'no-such-policy', '--symbol', SYMBOL, '--notional', '1000']);
    assert.equal(bad.code, 2);
    assert.match(oneSentence(bad.stderr), /no-such-policy/);
  });

  it('says no server answers, with exit 1, when none listens at the URL', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const res = await tasa(['positions', '--url', dead], {});
    assert.equal(res.code, 1);
    assert.match(oneSentence(res.stderr), new RegExp(`^error: No Tasa server answers at ${dead.replace(/\./g, '\\.')} `));
  });
});
