// What every tool script of the clients suite shares. A script takes the URL it is to use
// from CLIENT_URL (never from its arguments, so that no process list or log shows it), does
// what an app or a deploy step does with its tool, and prints exactly one line
//   RESULT <TAB> works|fails|hangs <TAB> detail
// with the password and the URL taken out of the detail. The suite turns these lines into its
// TAP lines and into README's table, so a detail must be the same on every run: no names a
// driver made up, no timings.
export const url = process.env.CLIENT_URL ?? '';
if (!url) {
  console.log('RESULT\tfails\tCLIENT_URL is not set');
  process.exit(2);
}

const secrets = (() => {
  const found = [url];
  try {
    const password = new URL(url).password;
    if (password) found.push(password, decodeURIComponent(password));
  } catch {
    // not a URL: the whole string is the only secret we know
  }
  return found.filter((s) => s.length >= 4);
})();

export function redact(text) {
  let s = String(text);
  for (const secret of secrets) s = s.split(secret).join('********');
  return s.replace(/\s+/g, ' ').trim().slice(0, 240);
}

// The SQLSTATE and message of an error, as drivers give them.
export function describe(error) {
  if (error instanceof AggregateError && error.errors?.length) error = error.errors[0];
  const code = error?.code ?? error?.original?.code ?? error?.parent?.code ?? error?.driverError?.code;
  const message = error?.message ?? String(error);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}

let reported = false;
export function report(outcome, detail = '') {
  if (reported) return;
  reported = true;
  process.stdout.write(`RESULT\t${outcome}\t${redact(detail)}\n`);
}

export function expect(condition, what) {
  if (!condition) throw new Error(`unexpected result: ${what}`);
}

// run(body, seconds): body's resolved value is the detail of "works"; a throw is "fails" with
// the error; no answer within `seconds` is "hangs" (a driver that waits forever for a reply
// that never comes). The process ends here either way: a hung driver's sockets keep it alive.
export async function run(body, seconds = 30) {
  const timer = setTimeout(() => {
    report('hangs', `no answer within ${seconds} s`);
    process.exit(3);
  }, seconds * 1000);
  try {
    const detail = await body();
    clearTimeout(timer);
    report('works', detail ?? '');
    process.exit(0);
  } catch (error) {
    clearTimeout(timer);
    report('fails', describe(error));
    process.exit(1);
  }
}

// n concurrent workers, each running `task(worker, i)` `rounds` times in sequence: what an app
// under load does, and what makes a pooler hand each transaction a different server connection.
export async function concurrently(n, rounds, task) {
  await Promise.all(Array.from({ length: n }, async (_, worker) => {
    for (let i = 0; i < rounds; i++) await task(worker, i);
  }));
}
