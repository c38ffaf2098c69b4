// node-postgres (pg): `node node-postgres.mjs unnamed|named`.
//   unnamed: what pg does by default: a Pool, parameterised queries (the unnamed statement),
//            6 at once, and a transaction on one checked-out client.
//   named:   the same queries as named prepared statements ({ name, text, values }), which pg
//            prepares once per connection and then only binds: 4 clients at once.
import pg from 'pg';
import { run, concurrently, expect, url } from './common.mjs';

const mode = process.argv[2];

async function unnamed() {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS pg_notes (id serial PRIMARY KEY, body text NOT NULL)');
    await concurrently(6, 20, async (w, i) => {
      const { rows } = await pool.query('SELECT $1::int + $2::int AS n', [w, i]);
      expect(rows[0].n === w + i, 'SELECT $1 + $2');
    });
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO pg_notes (body) VALUES ($1), ($2)', ['one', 'two']);
      const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_notes WHERE body = ANY($1)', [['one', 'two']]);
      expect(rows[0].n === 2, 'rows inserted in the transaction');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM pg_notes');
    expect(rows[0].n >= 2, 'rows after COMMIT');
  } finally {
    await pool.end();
  }
}

async function named() {
  const clients = [];
  try {
    for (let i = 0; i < 4; i++) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      clients.push(client);
    }
    const codes = new Map();
    await concurrently(4, 25, async (w, i) => {
      try {
        const { rows } = await clients[w].query({ name: 'claudable_sum', text: 'SELECT $1::int + $2::int AS n', values: [w, i] });
        expect(rows[0].n === w + i, 'SELECT $1 + $2');
      } catch (error) {
        codes.set(error.code ?? error.message, (codes.get(error.code ?? error.message) ?? 0) + 1);
      }
    });
    if (codes.size === 0) return;
    const known = { '42P05': 'already exists', 26000: 'does not exist' };
    if ([...codes.keys()].every((code) => code in known)) {
      // Which of the two comes first depends on which server connection PgBouncer hands out.
      throw new Error('42P05/26000: prepared statement "claudable_sum" already exists / does not exist ' +
                      'on the server connection the query lands on');
    }
    throw new Error([...codes.keys()].sort().join(', '));
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

if (mode === 'unnamed') await run(unnamed);
else if (mode === 'named') await run(named);
else throw new Error('usage: node-postgres.mjs unnamed|named');
