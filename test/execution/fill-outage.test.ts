/**
 * A PostgreSQL outage while a fill is stored. The order service runs on a private cluster (the
 * machine's shared server is never stopped), which is stopped between a market order's acceptance
 * and the tick that fills it: the fill's write fails and waits in the service's inbox; once the
 * cluster is back, the retry timer (on the ManualClock) stores it. It must be stored, audited and
 * published exactly once, the account must balance to the centavo, and trading must go on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { listAudit } from '../../src/store/audit-repo.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres-driver.ts';
import { findOrder, listFills } from '../../src/store/trading-repo.ts';
import { openTradingAccount } from '../../src/store/trading-state-repo.ts';
import { applyFillToAccount, openAccount, valueAccount } from '../../src/trading/account.ts';
import { notional } from '../../src/trading/money.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { databaseTargets } from '../support/test-db.ts';
import { waitFor } from '../support/wait-for.ts';
import { marketOrder, SERVICE_CONFIG, startRig, SYMBOL, T0, type Rig } from './trading-rig.ts';

// Like every PostgreSQL suite: skipped (with a notice) without TEST_DATABASE_URL, never under CI.
const postgresSuites = databaseTargets().some((t) => t.name === 'postgres');

describe('a fill through a PostgreSQL outage (private cluster)', { skip: !postgresSuites, timeout: 120_000 }, () => {
  let pg: PrivatePostgres;
  let db: Db;
  let rig: Rig | undefined;
  before(async () => {
    pg = await startPrivatePostgres();
    db = await openPostgres(pg.url);
    await migrate(db);
  });
  after(async () => {
    await rig?.stop();
    await db?.close();
    await pg?.destroy();
  });

  it('stores the fill once when the database is back: order filled, account balanced, published once, trading goes on', async () => {
    const clock = new ManualClock(T0);
    rig = await startRig(db, clock);
    const service = rig.service;
    await rig.tick(4000, 4004);
    assert.equal((await service.place(marketOrder('o1', 'buy', 100_000n), { actor: 'alice' })).order.status, 'accepted');

    await pg.stop();
    await rig.tick(4001, 4005);
    assert.equal(service.snapshot().book.open.get('o1')?.fillCount, 0, 'the fill is not applied while it is not stored');
    assert.equal(service.snapshot().book.account.positions[SYMBOL], undefined);
    assert.equal(fillMessages(rig, 'o1'), 0);

    await pg.start();
    assert.deepEqual(await listFills(db, { limit: 10 }), [], 'nothing was written during the outage');
    // Each step of the clock fires the pending retry, until one finds the database back.
    await waitFor(
      async () => {
        await clock.advance(1_000);
        await rig!.settle();
        return !service.snapshot().book.open.has('o1');
      },
      'the retried fill',
      30_000,
    );
    await rig.tick(4002, 4006);
    assert.equal((await service.place(marketOrder('o2', 'sell', 40_000n), { actor: 'alice' })).order.status, 'accepted');
    await rig.tick(4003, 4007);

    const fills = await listFills(db, { limit: 100 });
    assert.deepEqual(fills.map((f) => `${f.clientOrderId}#${f.seq}`).sort(), ['o1#1', 'o2#1']);
    const o1 = await findOrder(db, { clientOrderId: 'o1' });
    assert.deepEqual([o1?.status, o1?.filledQuantity], ['filled', 100_000n]);
    assert.equal((await findOrder(db, { clientOrderId: 'o2' }))?.status, 'filled');
    assert.equal(fills.find((f) => f.clientOrderId === 'o1')?.time, T0 + 2_000, 'filled on the tick published during the outage');
    assert.deepEqual([fillMessages(rig, 'o1'), fillMessages(rig, 'o2')], [1, 1]);
    const audit = (await listAudit(db, { entity: 'order:o1', limit: 10 })).map((e) => `${e.action}/${e.actor}`);
    assert.deepEqual(audit, ['order.placed/alice', 'order.fill/broker']);

    const { account, marks } = service.snapshot().book;
    const last = marks.get(SYMBOL);
    const position = account.positions[SYMBOL];
    assert.ok(last !== undefined && position !== undefined);
    assert.equal(position.quantity, 60_000n);
    const value = valueAccount(account, { [SYMBOL]: last });
    assert.equal(account.cash + notional(position.quantity, last), account.initialCash + account.realizedPnl + value.unrealizedPnl - account.fees);
    // The stored fills alone rebuild the stored account, and the book agrees.
    const stored = await openTradingAccount(db, 0n, clock.now());
    assert.deepEqual(stored, fills.reduce(applyFillToAccount, openAccount(SERVICE_CONFIG.initialCash)));
    assert.deepEqual(stored, account);
  });
});

function fillMessages(rig: Rig, clientOrderId: string): number {
  return rig.messages.filter((m) => m.channel === 'fills' && m.data.clientOrderId === clientOrderId).length;
}
