// How the package classifies failures and which calls it sends again, without a server: its
// own classification (dist/connection.js, not exported from the package's index) and its
// calls run on a pool of fake clients (options.pool), each playing one way a session ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deprovisionProjectDatabase, provisionProjectDatabase, errorForSqlstate, httpStatusFor, UnavailableError,
  OutcomeUnknownError, InvalidInputError, snapshotProjectDatabase, listProjectSnapshots, restoreProjectDatabase,
  dropProjectSnapshot, branchProjectDatabase,
} from '../dist/index.mjs';
import { classify, mayRetry } from '../dist/connection.js';

// An error as pg reports the server's FATAL for an ended session.
function ended(code) {
  return Object.assign(new Error(code === '57P01' ? 'terminating connection due to administrator command'
                                                 : 'terminating connection because of crash of another server process'),
                       { code, severity: 'FATAL' });
}

test('57P01 and 57P02 answered by the server are unavailable (503)', () => {
  for (const code of ['57P01', '57P02']) {
    const error = errorForSqlstate(code, 'm');
    assert.ok(error instanceof UnavailableError, code);
    assert.equal(httpStatusFor(error), 503, code);
  }
});

test('a session ended (57P01, 57P02) before a deprovision was sent is unavailable, and it may be sent again', () => {
  for (const code of ['57P01', '57P02']) {
    const failure = classify(ended(code), [], false, false, 'claudable_deprovision');
    assert.ok(failure instanceof UnavailableError, code);
    assert.equal(failure.sqlstate, code);
    assert.equal(mayRetry(failure, false, false), true, code);
  }
});

test('a session ended (57P01, 57P02) after a deprovision was sent is outcome unknown, never sent again', () => {
  for (const code of ['57P01', '57P02']) {
    const failure = classify(ended(code), [], true, false, 'claudable_deprovision');
    assert.ok(failure instanceof OutcomeUnknownError, code);
    assert.equal(mayRetry(failure, true, false), false, code);
  }
});

test('a session ended (57P01, 57P02) under a provision is unavailable, and it is sent again', () => {
  for (const code of ['57P01', '57P02']) {
    const failure = classify(ended(code), [], true, true, 'claudable_provision');
    assert.ok(failure instanceof UnavailableError, code);
    assert.equal(mayRetry(failure, true, true), true, code);
  }
});

// A pool of fake clients, handed out in order. A client made with `endedWhileIdle` has the
// server's FATAL waiting on its socket: it emits 'error' on the next turn of the event loop
// after a listener is attached, as pg does once it reads the socket. Its query, if written,
// gets that FATAL as its answer (as pg gives it to a query written on such a connection).
function fakePool(...clients) {
  const handedOut = [];
  return {
    handedOut,
    async connect() {
      const spec = clients[handedOut.length];
      assert.ok(spec, 'no more clients than the test planned');
      const listeners = new Set();
      const client = {
        queries: 0,
        destroyed: false,
        on(event, listener) {
          if (event !== 'error') return;
          listeners.add(listener);
          if (spec.endedWhileIdle) setImmediate(() => { for (const l of listeners) l(spec.endedWhileIdle); });
        },
        removeListener(event, listener) { listeners.delete(listener); },
        async query(sql, params) {
          client.queries++;
          client.sent = { sql, params };
          if (spec.endedWhileIdle) throw spec.endedWhileIdle;
          if (spec.endsWhileRunning) throw spec.endsWhileRunning;
          if (spec.answers) throw spec.answers;
          return { rows: spec.rows };
        },
        release(destroy) { client.destroyed = Boolean(destroy); },
      };
      handedOut.push(client);
      return client;
    },
  };
}

test('a deprovision on a kept connection the server ended while idle is sent on another and returns its result', async () => {
  const pool = fakePool({ endedWhileIdle: ended('57P01') }, { rows: [{ removed: true }] });
  let retries = 0;
  const removed = await deprovisionProjectDatabase('p', 'o', { pool, onRetry: () => retries++ });
  assert.equal(removed, true);
  assert.equal(pool.handedOut[0].queries, 0, 'nothing was written on the ended connection');
  assert.equal(pool.handedOut[0].destroyed, true, 'which is not reused');
  assert.equal(pool.handedOut[1].queries, 1, 'the deprovision was sent once, on the new connection');
  assert.equal(retries, 0, 'replacing an ended connection is no retry');
});

test('a deprovision whose session ends (57P02) while it runs is OutcomeUnknownError and is not sent again', async () => {
  const pool = fakePool({ endsWhileRunning: ended('57P02') }, { rows: [{ removed: false }] });
  const error = await deprovisionProjectDatabase('p', 'o', { pool }).then(() => null, (e) => e);
  assert.ok(error instanceof OutcomeUnknownError, `got ${error}`);
  assert.equal(pool.handedOut.length, 1, 'not sent again');
});

test('a provision whose session ends (57P01) while it runs is sent again and returns the row', async () => {
  const row = { project_id: 'p', owner_id: 'o', database_name: 'app_db_p', username: 'app_u_p', password: 'x',
                host: 'h', port: 5432, database_url: 'postgresql://app_u_p:x@h:5432/app_db_p', created: false,
                created_at: '2024-01-01T00:00:00Z' };
  const pool = fakePool({ endsWhileRunning: ended('57P01') }, { rows: [row] });
  let retries = 0;
  const info = await provisionProjectDatabase('p', 'o', { pool, onRetry: () => retries++ });
  assert.equal(info.databaseName, 'app_db_p');
  assert.equal(retries, 1);
});

// ---- snapshots, restore and branches (claudable 0.7.0) ------------------------------------------
const projectRow = { project_id: 'p', owner_id: 'o', database_name: 'app_db_p', username: 'app_u_p', password: 'x',
                     host: 'h', port: 5432, database_url: 'postgresql://app_u_p:x@h:5432/app_db_p', created: false,
                     created_at: '2024-01-01T00:00:00Z', pooled_database_url: null };
const snapshotRow = { snapshot_id: 'snap-0123456789ab', project_id: 'p', label: null, size_bytes: '7700000',
                      created_at: new Date('2026-01-02T03:04:05Z') };
// An error the server answers with (not a lost connection), as pg reports it.
function answered(code) { return Object.assign(new Error(`answered ${code}`), { code, severity: 'ERROR' }); }

test('a branch of a branch (0A000) is InvalidInputError (400)', () => {
  const error = errorForSqlstate('0A000', 'm');
  assert.ok(error instanceof InvalidInputError);
  assert.equal(httpStatusFor(error), 400);
});

test('sessions that did not end in time (55006) are UnavailableError (503)', () => {
  const error = errorForSqlstate('55006', 'm');
  assert.ok(error instanceof UnavailableError);
  assert.equal(httpStatusFor(error), 503);
});

test('a snapshot whose session ends (57P01) while it runs is OutcomeUnknownError and is not sent again', async () => {
  const pool = fakePool({ endsWhileRunning: ended('57P01') }, { rows: [snapshotRow] });
  const error = await snapshotProjectDatabase('p', 'o', { pool }).then(() => null, (e) => e);
  assert.ok(error instanceof OutcomeUnknownError, `got ${error}`);
  assert.equal(pool.handedOut.length, 1, 'not sent again: a second snapshot would be made');
});

test('a restore whose session ends (57P02) while it runs is OutcomeUnknownError and is not sent again', async () => {
  const pool = fakePool({ endsWhileRunning: ended('57P02') }, { rows: [projectRow] });
  const error = await restoreProjectDatabase('p', 'o', 'snap-0123456789ab', { pool }).then(() => null, (e) => e);
  assert.ok(error instanceof OutcomeUnknownError, `got ${error}`);
  assert.equal(pool.handedOut.length, 1, 'not sent again: a second before-restore snapshot would be made');
});

test('a snapshot or restore answered 55006 is UnavailableError and is not sent again', async () => {
  for (const run of [(pool) => snapshotProjectDatabase('p', 'o', { pool }),
                     (pool) => restoreProjectDatabase('p', 'o', 'snap-0123456789ab', { pool })]) {
    const pool = fakePool({ answers: answered('55006') }, { rows: [snapshotRow] });
    const error = await run(pool).then(() => null, (e) => e);
    assert.ok(error instanceof UnavailableError && error.sqlstate === '55006', `got ${error}`);
    assert.equal(pool.handedOut.length, 1);
  }
});

test('a branch, a listing and a drop whose session ends (57P01) while they run are sent again', async () => {
  const calls = [
    [(pool, onRetry) => branchProjectDatabase('p', 'o', 'b', { pool, onRetry }), { rows: [projectRow] },
     (info) => info.databaseName === 'app_db_p'],
    [(pool, onRetry) => listProjectSnapshots('p', 'o', { pool, onRetry }), { rows: [snapshotRow] },
     (list) => list.length === 1],
    [(pool, onRetry) => dropProjectSnapshot('p', 'o', 'snap-0123456789ab', { pool, onRetry }), { rows: [{ dropped: false }] },
     (dropped) => dropped === false],
  ];
  for (const [run, answer, expected] of calls) {
    const pool = fakePool({ endsWhileRunning: ended('57P01') }, answer);
    let retries = 0;
    assert.ok(expected(await run(pool, () => retries++)));
    assert.equal(retries, 1);
    assert.equal(pool.handedOut.length, 2);
  }
});

test('a branch answered 55006 is sent again (a second call returns the same branch)', async () => {
  const pool = fakePool({ answers: answered('55006') }, { rows: [projectRow] });
  let retries = 0;
  const info = await branchProjectDatabase('p', 'o', 'b', { pool, onRetry: () => retries++ });
  assert.equal(info.projectId, 'p');
  assert.equal(retries, 1);
});

test('branchProjectDatabase sends source current by default, and expiresAt as UTC ISO text', async () => {
  const plain = fakePool({ rows: [projectRow] });
  await branchProjectDatabase('p', 'o', 'b', { pool: plain });
  assert.deepEqual(plain.handedOut[0].sent.params, ['p', 'o', 'b', 'current', null]);
  const dated = fakePool({ rows: [projectRow] });
  await branchProjectDatabase('p', 'o', 'b', { pool: dated, source: 'snap-0123456789ab',
                                               expiresAt: new Date('2031-01-02T05:04:05.250+02:00') });
  assert.deepEqual(dated.handedOut[0].sent.params, ['p', 'o', 'b', 'snap-0123456789ab', '2031-01-02T03:04:05.250Z']);
});

test('a snapshot without a label sends NULL, and its row reads as a ProjectSnapshot', async () => {
  const pool = fakePool({ rows: [snapshotRow] });
  const snapshot = await snapshotProjectDatabase('p', 'o', { pool });
  assert.deepEqual(pool.handedOut[0].sent.params, ['p', 'o', null]);
  assert.deepEqual(snapshot, { snapshotId: 'snap-0123456789ab', projectId: 'p', label: null, sizeBytes: 7700000,
                               createdAt: new Date('2026-01-02T03:04:05Z') });
});

test('an expiresAt, source or label of the wrong type is InvalidInputError before anything is sent', async () => {
  let connects = 0;
  const pool = { async connect() { connects++; throw new Error('the call went on to the server'); } };
  const refused = [
    branchProjectDatabase('p', 'o', 'b', { pool, expiresAt: new Date('tomorrow') }),
    branchProjectDatabase('p', 'o', 'b', { pool, expiresAt: '2031-01-01T00:00:00Z' }),
    branchProjectDatabase('p', 'o', 'b', { pool, expiresAt: 1924992000000 }),
    branchProjectDatabase('p', 'o', 'b', { pool, source: null }),
    branchProjectDatabase('p', 'o', 'b', { pool, source: { toString: () => 'current' } }),
    snapshotProjectDatabase('p', 'o', { pool, label: 42 }),
    snapshotProjectDatabase('p', 'o', { pool, label: ['a'] }),
  ];
  for (const promise of refused) {
    const error = await promise.then(() => null, (e) => e);
    assert.ok(error instanceof InvalidInputError && error.sqlstate === '22023', `got ${error}`);
    assert.equal(httpStatusFor(error), 400);
  }
  assert.equal(connects, 0, 'nothing was sent');
});
