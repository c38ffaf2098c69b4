// How the package classifies failures and which calls it sends again, without a server: its
// own classification (dist/connection.js, not exported from the package's index) and its
// calls run on a pool of fake clients (options.pool), each playing one way a session ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deprovisionProjectDatabase, provisionProjectDatabase, errorForSqlstate, httpStatusFor, UnavailableError,
  OutcomeUnknownError,
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
        async query() {
          client.queries++;
          if (spec.endedWhileIdle) throw spec.endedWhileIdle;
          if (spec.endsWhileRunning) throw spec.endsWhileRunning;
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
