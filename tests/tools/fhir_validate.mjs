#!/usr/bin/env node
// fhir_validate.mjs -- validates FHIR R4 JSON files with the `fhir` npm
// package's validator (bundled R4 definitions, works offline).  Errors fail;
// warnings (mostly value sets its bundled terminology does not hold) are
// printed only with --verbose.  A document Bundle is validated as a whole
// and each of its resources on its own, so an error names its entry.
//
//   node fhir_validate.mjs FILE.json...
// Exit 0 when every file is valid R4, 1 with the errors otherwise.
import { readFileSync } from 'node:fs';
import pkg from 'fhir';

const { Fhir } = pkg;
const fhir = new Fhir();
const verbose = process.argv.includes('--verbose');
let bad = 0;
for (const file of process.argv.slice(2).filter((a) => !a.startsWith('--'))) {
  const res = JSON.parse(readFileSync(file, 'utf8'));
  const parts = [['Bundle', res], ...(res.entry || []).map((e, i) => [`Bundle.entry[${i}] ${e.resource?.resourceType}`, e.resource])];
  for (const [where, r] of parts) {
    const out = fhir.validate(r, { errorOnUnexpected: true });
    for (const m of out.messages) {
      if (m.severity === 'error') {
        bad++;
        console.log(`${file}: ${where}: ${m.location}: ${m.message}`);
      } else if (verbose) {
        console.log(`${file}: ${where}: ${m.severity}: ${m.location}: ${m.message}`);
      }
    }
  }
}
process.exit(bad ? 1 : 0);
