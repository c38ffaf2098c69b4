// README's "Which URL for which tool" table, from what the clients suite saw.
//   node readme_table.mjs RESULTS                  prints the table
//   node readme_table.mjs --check README RESULTS   exits 1 when README's table differs
//   node readme_table.mjs --write README RESULTS   puts the table into README
// RESULTS is the suite's results file (test/clients/results.tsv after a run): a line
// "@version <TAB> pgbouncer <TAB> 1.18", then one line per tool and URL: key, tool, what ran,
// direct|pooled, outcome, detail. The table goes between the lines
// <!-- clients-table:begin --> and <!-- clients-table:end -->; nothing else in README changes.
import fs from 'node:fs';

const BEGIN = '<!-- clients-table:begin -->';
const END = '<!-- clients-table:end -->';

function usage() {
  console.error('usage: readme_table.mjs [--check|--write README] RESULTS');
  process.exit(2);
}

const args = process.argv.slice(2);
let mode = 'print', readme = null;
if (args[0] === '--check' || args[0] === '--write') {
  mode = args.shift().slice(2);
  readme = args.shift();
}
const [resultsFile] = args;
if (!resultsFile || args.length !== 1 || (mode !== 'print' && !readme)) usage();

const cell = (text) => text.replace(/\|/g, '\\|');
function outcomeCell(outcome, detail) {
  switch (outcome) {
    case 'works': return 'works';
    case 'works-leaves': return `works, but ${detail}`;
    case 'fails': return `**fails**: ${detail}`;
    case 'hangs': return `**hangs**: ${detail}`;
    case 'breaks': return `**hangs or fails**: ${detail}`;
    default: return `${outcome}: ${detail}`;
  }
}

function table(resultsText) {
  const rows = new Map();
  const versions = {};
  for (const line of resultsText.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('@version\t')) {
      const [, name, version] = line.split('\t');
      versions[name] = version;
      continue;
    }
    const [key, tool, what, kind, outcome, detail = ''] = line.split('\t');
    if (!rows.has(key)) rows.set(key, { tool, what });
    rows.get(key)[kind] = outcomeCell(outcome, detail);
  }
  const pooled = `pooled URL (\`DATABASE_URL\`: PgBouncer ${versions.pgbouncer ?? '?'}, transaction pooling)`;
  const out = [
    BEGIN,
    '<!-- Made by test/clients/readme_table.mjs from what test/clients/clients_suite.sh saw; make test fails when it differs. -->',
    `| tool | what the suite runs | direct URL (\`DIRECT_URL\`) | ${pooled} |`,
    '|---|---|---|---|',
  ];
  for (const { tool, what, direct = 'not run', pooled: p = 'not run' } of rows.values()) {
    out.push(`| ${cell(tool)} | ${cell(what)} | ${cell(direct)} | ${cell(p)} |`);
  }
  out.push(END);
  return out.join('\n');
}

const generated = table(fs.readFileSync(resultsFile, 'utf8'));
if (mode === 'print') {
  console.log(generated);
  process.exit(0);
}

const text = fs.readFileSync(readme, 'utf8');
const start = text.indexOf(BEGIN);
const end = text.indexOf(END);
if (start < 0 || end < start || text.indexOf(BEGIN, start + 1) >= 0) {
  console.error(`${readme} has no single ${BEGIN} ... ${END} block`);
  process.exit(1);
}
const current = text.slice(start, end + END.length);
if (mode === 'check') {
  if (current === generated) process.exit(0);
  const have = current.split('\n'), want = generated.split('\n');
  console.error(`${readme}'s table differs from what the suite saw:`);
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    if (have[i] !== want[i]) {
      if (have[i] !== undefined) console.error(`- ${have[i]}`);
      if (want[i] !== undefined) console.error(`+ ${want[i]}`);
    }
  }
  process.exit(1);
}
fs.writeFileSync(readme, text.slice(0, start) + generated + text.slice(end + END.length));
console.log(`wrote the table into ${readme}`);
