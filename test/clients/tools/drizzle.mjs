// drizzle-kit and drizzle-orm (over node-postgres): `drizzle-kit migrate` as a deploy step runs
// it, twice (the second finds the migration applied and changes nothing), then drizzle-orm's
// queries as an app makes them: a transaction, a join, 6 queries at a time through a Pool.
import path from 'node:path';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { eq, sql } from 'drizzle-orm';
import { run, concurrently, expect, url } from './common.mjs';
import { cli, bin, root } from './cli.mjs';
import { authors, posts } from '../drizzle/schema.mjs';

const dir = path.join(root, 'drizzle');
const migrate = () => cli(bin('drizzle-kit'), ['migrate', '--config', 'drizzle.config.mjs'], { cwd: dir, env: { CLIENT_URL: url } });

await run(async () => {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  try {
    const applied = async () => (await pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0].n;
    const tables = async () => (await pool.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'drizzle\\_%'")).rows[0].n;
    await migrate();
    expect(await applied() === 1 && await tables() === 2, 'the first migrate applies the one migration');
    await migrate();
    expect(await applied() === 1 && await tables() === 2, 'the second migrate is a no-op');

    const db = drizzle(pool);
    await db.transaction(async (tx) => {
      const [author] = await tx.insert(authors).values({ name: 'ada' }).returning();
      await tx.insert(posts).values([{ authorId: author.id, title: 'first' }, { authorId: author.id, title: 'second' }]);
    });
    const rows = await db.select({ title: posts.title }).from(posts).innerJoin(authors, eq(posts.authorId, authors.id))
      .where(eq(authors.name, 'ada')).orderBy(posts.title);
    expect(rows.map((r) => r.title).join() === 'first,second', 'the join');
    await concurrently(6, 10, async (w, i) => {
      const [row] = await db.select({ n: sql`${w}::int + ${i}::int`.mapWith(Number) }).from(authors).limit(1);
      expect(row.n === w + i, 'a parameterised select');
    });
  } finally {
    await pool.end();
  }
  return '';
});
