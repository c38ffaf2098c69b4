// postgres.js (the npm package `postgres`): `node postgres-js.mjs default|prepare-false`.
// An app's use of it: a pool of 4 connections, 8 queries with parameters at a time (postgres.js
// pipelines them on its connections), a transaction (sql.begin); 6 rounds, each with a new
// pool, as 6 app instances would start. With its defaults (prepare: true: every query a named
// prepared statement) or with `prepare: false` (the unnamed statement).
import postgres from 'postgres';
import { run, concurrently, expect, url } from './common.mjs';

const mode = process.argv[2];
if (mode !== 'default' && mode !== 'prepare-false') throw new Error('usage: postgres-js.mjs default|prepare-false');
const options = mode === 'prepare-false' ? { prepare: false } : {};

await run(async () => {
  for (let round = 0; round < 6; round++) {
    const sql = postgres(url, { max: 4, onnotice: () => {}, ...options });
    await sql`CREATE TABLE IF NOT EXISTS pgjs_notes (id serial PRIMARY KEY, body text NOT NULL)`;
    await concurrently(8, 20, async (w, i) => {
      const [row] = await sql`SELECT ${w}::int + ${i}::int AS n`;
      expect(row.n === w + i, 'SELECT $1 + $2');
    });
    await sql.begin(async (tx) => {
      await tx`INSERT INTO pgjs_notes ${tx([{ body: 'one' }, { body: 'two' }])}`;
      const [row] = await tx`SELECT count(*)::int AS n FROM pgjs_notes WHERE body IN ('one', 'two')`;
      expect(row.n >= 2, 'rows inserted in the transaction');
    });
    await sql.end({ timeout: 5 });
  }
}, 15);
