// node-pg-migrate: `node-pg-migrate up` as a deploy step runs it (DATABASE_URL in its
// environment, its defaults: a session advisory lock, pg_try_advisory_lock, taken before and
// released after the migrations), up to 4 times as 4 deploys would (the first applies both
// migrations, the others find nothing to do), each followed by a look at pg_locks: its lock
// must be gone when it has exited. Then the table it made is used.
import path from 'node:path';
import pg from 'pg';
import { run, expect, url } from './common.mjs';
import { cli, bin, root } from './cli.mjs';

const dir = path.join(root, 'node-pg-migrate');
const up = () => cli(bin('node-pg-migrate'), ['up', '--migrations-dir', 'migrations'], { cwd: dir, env: { DATABASE_URL: url } });
const stuck = 'its session advisory lock (pg_try_advisory_lock) outlives `up` on a server connection of the pool, ' +
              'and an `up` that lands on another one fails: "Another migration is already running"';

await run(async () => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // pg_locks shows every session's locks; an advisory lock in this database is node-pg-migrate's.
    const locksLeft = async () => (await client.query(`SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows[0].n;
    for (let deploy = 1; deploy <= 4; deploy++) {
      let output;
      try {
        output = await up();
      } catch (error) {
        if (/Another migration is already running/.test(error.message)) throw new Error(stuck);
        throw error;
      }
      expect(deploy === 1 ? /Migrations complete!/.test(output) : /No migrations to run!/.test(output),
             deploy === 1 ? 'the first up runs the migrations' : 'a later up is a no-op');
      if (await locksLeft()) throw new Error(stuck);
    }
    const { rows } = await client.query('SELECT count(*)::int AS n FROM pgmigrations');
    expect(rows[0].n === 2, 'two migrations recorded');
    await client.query('INSERT INTO pgm_orders (reference, total_cents) VALUES ($1, $2)', ['A-1', 1250]);
    const { rows: orders } = await client.query('SELECT total_cents FROM pgm_orders WHERE reference = $1', ['A-1']);
    expect(orders[0].total_cents === 1250, 'the row');
  } finally {
    await client.end();
  }
});
