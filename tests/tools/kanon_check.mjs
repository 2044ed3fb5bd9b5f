#!/usr/bin/env node
// kanon_check.mjs -- an independent checker for `kenbank anonymize` output.
//
// Written apart from the C engine on purpose: it re-derives everything from
// the output file (and, when given, the input and the hierarchy files) and
// shares no code with src/analytics/.
//
//   node kanon_check.mjs --out OUT.csv [--sep ';'] --qi a,b,c --k K
//        [--sensitive COL --l L] [--suppress 0.05] [--expect-suppressed N]
//        [--in IN.csv --hier COL:FILE ...]
//
// Checks:
//   - records whose quasi-identifiers are all "*" count as suppressed; there
//     are at most floor(suppress * rows) of them (or they form a valid class);
//   - every other combination of quasi-identifier values occurs >= k times and,
//     with --l, holds >= l distinct values of the sensitive column;
//   - with --in: same header, same row count, non-QI cells unchanged;
//   - with --hier: each QI column is the input generalised to one single level
//     of its hierarchy (or "*" in a suppressed record).
// Exit 0 when all hold; 1 with the reasons otherwise; 2 on bad arguments.
import { readFileSync } from 'node:fs';

function usage(msg) {
  process.stderr.write(`kanon_check: ${msg}\n`);
  process.exit(2);
}

const args = { hier: [], sep: ';', l: 0, suppress: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const v = argv[i + 1];
  if (v === undefined) usage(`${a} needs a value`);
  i++;
  switch (a) {
    case '--out': args.out = v; break;
    case '--in': args.in = v; break;
    case '--sep': args.sep = v === 'tab' ? '\t' : v; break;
    case '--qi': args.qi = v.split(','); break;
    case '--k': args.k = Number(v); break;
    case '--l': args.l = Number(v); break;
    case '--sensitive': args.sensitive = v; break;
    case '--suppress': args.suppress = Number(v); break;
    case '--expect-suppressed': args.expect = Number(v); break;
    case '--hier': args.hier.push(v); break;
    default: usage(`unknown option ${a}`);
  }
}
if (!args.out || !args.qi || !(args.k >= 1)) usage('--out, --qi and --k are required');
if (args.l >= 2 && !args.sensitive) usage('--l needs --sensitive');

// RFC 4180 with a configurable separator.
function parseCsv(text, sep) {
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === '') { quoted = true; i++; continue; }
    if (ch === sep) { row.push(field); field = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { i++; continue; }
    if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
    field += ch; i++;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

const problems = [];
const fail = (m) => { if (problems.length < 20) problems.push(m); else if (problems.length === 20) problems.push('...'); };

const out = parseCsv(readFileSync(args.out, 'utf8'), args.sep);
const header = out[0];
const body = out.slice(1);
const col = (name) => {
  const i = header.indexOf(name);
  if (i < 0) usage(`${args.out} has no column '${name}'`);
  return i;
};
const qcols = args.qi.map(col);
const scol = args.sensitive ? col(args.sensitive) : -1;
const n = body.length;
const limit = Math.floor(args.suppress * n + 1e-9);

body.forEach((r, i) => {
  if (r.length !== header.length) fail(`${args.out} line ${i + 2}: ${r.length} fields, header has ${header.length}`);
});

// Classes over the quasi-identifiers.
const classes = new Map();
let suppressed = 0;
for (const r of body) {
  const key = JSON.stringify(qcols.map((c) => r[c]));
  let cl = classes.get(key);
  if (!cl) { cl = { size: 0, sens: new Set(), star: qcols.every((c) => r[c] === '*') }; classes.set(key, cl); }
  cl.size++;
  if (scol >= 0) cl.sens.add(r[scol]);
  if (cl.star) suppressed++;
}
let minClass = Infinity;
let nclasses = 0;
for (const [key, cl] of classes) {
  const good = cl.size >= args.k && (args.l < 2 || cl.sens.size >= args.l);
  if (cl.star) {
    if (!good && cl.size > limit)
      fail(`${cl.size} suppressed records exceed the limit of ${limit} (${args.suppress} of ${n})`);
    if (good && cl.size > limit) { nclasses++; minClass = Math.min(minClass, cl.size); }
    continue;
  }
  if (cl.size < args.k) fail(`class ${key} has ${cl.size} records, k=${args.k}`);
  if (args.l >= 2 && cl.sens.size < args.l)
    fail(`class ${key} has ${cl.sens.size} distinct '${args.sensitive}' values, l=${args.l}`);
  nclasses++;
  minClass = Math.min(minClass, cl.size);
}
if (args.expect !== undefined && suppressed !== args.expect)
  fail(`${suppressed} suppressed records, the tool reported ${args.expect}`);

// Faithfulness to the input.
const levels = {};
if (args.in) {
  const inp = parseCsv(readFileSync(args.in, 'utf8'), args.sep);
  if (JSON.stringify(inp[0]) !== JSON.stringify(header)) fail('output header differs from the input header');
  if (inp.length !== out.length) fail(`output has ${n} records, input ${inp.length - 1}`);
  const hier = {};
  for (const spec of args.hier) {
    const at = spec.indexOf(':');
    const name = spec.slice(0, at);
    const map = new Map();
    for (const row of parseCsv(readFileSync(spec.slice(at + 1), 'utf8'), args.sep)) map.set(row[0], row);
    hier[name] = map;
  }
  const qset = new Set(qcols);
  const cand = {};
  for (let i = 0; i < Math.min(n, inp.length - 1); i++) {
    const o = body[i], s = inp[i + 1];
    const star = qcols.every((c) => o[c] === '*');
    for (let c = 0; c < header.length; c++) {
      if (!qset.has(c)) {
        if (o[c] !== s[c]) fail(`line ${i + 2} column '${header[c]}': '${o[c]}' but the input has '${s[c]}'`);
        continue;
      }
      const h = hier[header[c]];
      if (!h || star) continue;
      const chain = h.get(s[c]);
      if (!chain) { fail(`line ${i + 2} column '${header[c]}': input value '${s[c]}' not in its hierarchy`); continue; }
      const ok = new Set();
      chain.forEach((v, lvl) => { if (v === o[c]) ok.add(lvl); });
      const prev = cand[header[c]];
      cand[header[c]] = prev ? new Set([...prev].filter((x) => ok.has(x))) : ok;
      if (cand[header[c]].size === 0 && !cand[header[c]].reported) {
        fail(`column '${header[c]}': line ${i + 2} '${s[c]}' -> '${o[c]}' is not at the level of earlier records`);
        cand[header[c]].reported = true;
      }
    }
  }
  for (const [name, set] of Object.entries(cand)) levels[name] = [...set].join('|');
}

const summary = `records=${n} classes=${nclasses} min_class=${minClass === Infinity ? 0 : minClass} ` +
  `suppressed=${suppressed} limit=${limit}` +
  (Object.keys(levels).length ? ' levels=' + Object.entries(levels).map(([k, v]) => `${k}:${v}`).join(',') : '');
if (problems.length) {
  process.stderr.write(`kanon_check: FAIL ${summary}\n  ${problems.join('\n  ')}\n`);
  process.exit(1);
}
process.stdout.write(`kanon_check: ok k=${args.k}${args.l >= 2 ? ` l=${args.l}` : ''} ${summary}\n`);
