// knex: `knex migrate:latest` as a deploy step runs it, twice (the second has nothing to do),
// then knex's query builder as an app uses it: a transaction, 6 queries at a time.
import path from 'node:path';
import { createRequire } from 'node:module';
import { run, concurrently, expect, url } from './common.mjs';
import { cli, bin, root } from './cli.mjs';

const dir = path.join(root, 'knex');
const migrate = () => cli(bin('knex'), ['migrate:latest', '--knexfile', 'knexfile.cjs'], { cwd: dir, env: { CLIENT_URL: url } });
const knexFactory = createRequire(import.meta.url)('knex');

await run(async () => {
  const first = await migrate();
  expect(/Batch 1 run: 2 migrations/.test(first), 'the first migrate:latest runs both migrations');
  const second = await migrate();
  expect(/Already up to date/.test(second), 'the second migrate:latest is a no-op');
  const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 6 } });
  try {
    const [{ n: applied }] = await knex('knex_migrations').count('* as n');
    expect(Number(applied) === 2, 'two migrations recorded');
    await knex.transaction(async (trx) => {
      await trx('knex_items').insert([{ name: 'apple', quantity: 3, price: '1.50' }, { name: 'pear', quantity: 1 }]);
      await trx('knex_items').where({ name: 'pear' }).increment('quantity', 4);
    });
    const rows = await knex('knex_items').select('name', 'quantity').orderBy('name');
    expect(rows.map((r) => `${r.name}=${r.quantity}`).join() === 'apple=3,pear=5', 'the rows');
    await concurrently(6, 10, async (w, i) => {
      const row = await knex('knex_items').where('quantity', '>', w + i).count('* as n').first();
      expect(Number(row.n) === [3, 5].filter((q) => q > w + i).length, 'a parameterised count');
    });
  } finally {
    await knex.destroy();
  }
});
