"""psycopg2 (Debian's python3-psycopg2, over libpq): `python3 psycopg2_check.py [--pgbouncer-param]`.

The URL comes from CLIENT_URL. A connection, a table, a transaction with parameters
(psycopg2 interpolates them on the client), a rollback, and 4 connections at once. Prints one
RESULT line, as the Node tools do, without the URL or the password.
"""
import os
import sys
import threading
import urllib.parse

import psycopg2

url = os.environ.get("CLIENT_URL", "")
# --pgbouncer-param: the URL with Prisma's `?pgbouncer=true`, as a Prisma app's DATABASE_URL has it.
pgbouncer_param = sys.argv[1:] == ["--pgbouncer-param"]
secrets = [s for s in (url, urllib.parse.urlsplit(url).password or "") if len(s) >= 4]
secrets += [urllib.parse.unquote(s) for s in secrets]


def report(outcome, detail=""):
    for secret in secrets:
        detail = detail.replace(secret, "********")
    print("RESULT\t%s\t%s" % (outcome, " ".join(str(detail).split())[:240]))


def main():
    if pgbouncer_param:
        conn = psycopg2.connect(url + ("&" if "?" in url else "?") + "pgbouncer=true")
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        conn.close()
        return
    with psycopg2.connect(url) as conn:  # commits the block's transaction at its end
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS psycopg_notes (id serial PRIMARY KEY, body text NOT NULL)")
            cur.execute("INSERT INTO psycopg_notes (body) VALUES (%s), (%s)", ("one", "two"))
    conn.close()
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO psycopg_notes (body) VALUES (%s)", ("rolled back",))
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM psycopg_notes WHERE body = ANY(%s)", (["one", "two", "rolled back"],))
            assert cur.fetchone()[0] == 2, "two rows after the rollback"
    finally:
        conn.close()

    failures = []

    def worker(w):
        try:
            c = psycopg2.connect(url)
            c.autocommit = True
            with c.cursor() as cur:
                for i in range(10):
                    cur.execute("SELECT %s::int + %s::int", (w, i))
                    assert cur.fetchone()[0] == w + i, "SELECT %s + %s"
            c.close()
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if failures:
        raise failures[0]


try:
    main()
    report("works")
except Exception as error:  # noqa: BLE001 - the suite reads the line
    code = getattr(error, "pgcode", None)
    report("fails", ("%s %s" % (code, error)) if code else str(error))
    sys.exit(1)
