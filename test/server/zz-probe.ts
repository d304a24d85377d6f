import { databaseTargets } from '/work/main/test/support/test-db.ts';
import { startTestServer } from '/work/main/test/support/test-server.ts';
import { createLogger } from '/work/main/src/log.ts';
const db = await databaseTargets()[0]!.open();
const ts = await startTestServer({ db, deps: { logger: createLogger('error') } });
for (const u of process.argv.slice(2)) {
  const r = await ts.app.inject({ url: u });
  console.log(`${u} ${r.statusCode} ${r.body}`);
}
await ts.close(); await db.close();
