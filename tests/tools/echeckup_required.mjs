#!/usr/bin/env node
// echeckup_required.mjs -- checks a document Bundle against the elements the
// JP eCheckupReport IG marks as required (cardinality 1.. in its profiles),
// as we read them; the list below is ours, written from reading the
// profiles, not taken from them.
//
//   node echeckup_required.mjs DOC.json
// Exit 0 when every check holds; 1 listing the ones that do not.
//
// Not checked, because kenbank does not know the value and will not invent
// it: Coverage.relationship (本人/家族: hc08 carries no such field), the
// Composition's dataEnterer extension (optional, but its parts are 1.. when
// present), Practitioner/PractitionerRole entries (no doctor in hc08).
import { readFileSync } from 'node:fs';

const doc = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const fails = [];
const need = (cond, what) => { if (!cond) fails.push(what); };
const has = (v) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
const entries = doc.entry || [];
const urls = new Set(entries.map((e) => e.fullUrl));
const resolves = (ref) => ref && urls.has(ref.reference);
const codes = (cc) => ((cc && cc.coding) || []).map((c) => c.code);

// Bundle
need(doc.resourceType === 'Bundle' && doc.type === 'document', 'Bundle.type is document');
need(has(doc.meta?.lastUpdated) && has(doc.meta?.profile), 'Bundle.meta lastUpdated and profile');
need(has(doc.identifier?.system) && has(doc.identifier?.value), 'Bundle.identifier system and value');
need(has(doc.timestamp), 'Bundle.timestamp');
entries.forEach((e, i) => need(has(e.fullUrl) && has(e.resource), `Bundle.entry[${i}] has fullUrl and resource`));
entries.forEach((e, i) => need(has(e.resource?.meta?.lastUpdated) && has(e.resource?.meta?.profile),
  `Bundle.entry[${i}].resource.meta lastUpdated and profile`));

// Composition: first, one of each of the document's header elements
const comp = entries[0]?.resource || {};
need(comp.resourceType === 'Composition', 'Bundle.entry[0] is the Composition');
need((comp.extension || []).some((x) => x.url.endsWith('composition-clinicaldocument-versionNumber') && has(x.valueString)),
  'Composition version number extension with a value');
need(has(comp.identifier?.system) && has(comp.identifier?.value), 'Composition.identifier system and value');
need(has(comp.status), 'Composition.status');
need(comp.type?.coding?.length === 1 && comp.type.coding[0].code === '53576-5', 'Composition.type one coding 53576-5');
need(comp.category?.length === 1 && comp.category[0].coding?.length === 1, 'Composition.category one coding');
need(resolves(comp.subject), 'Composition.subject resolves in the Bundle');
need(resolves(comp.encounter), 'Composition.encounter resolves in the Bundle');
need(has(comp.date), 'Composition.date');
need(has(comp.author) && comp.author.every(resolves), 'Composition.author resolves');
need(has(comp.title), 'Composition.title');
need(resolves(comp.custodian), 'Composition.custodian resolves');
need(comp.event?.length === 1 && comp.event[0].code?.length === 1 && comp.event[0].code[0].coding?.length === 1,
  'Composition.event one, with one code of one coding');
need(has(comp.event?.[0]?.period?.start), 'Composition.event.period.start (the exam date)');
const sections = (comp.section || []).map((s) => codes(s.code)[0]);
need(sections.includes('01011'), 'Composition.section 01011 (results)');
const questions = (comp.section || []).find((s) => codes(s.code)[0] === '01012');
for (const s of comp.section || []) for (const r of s.entry || []) need(resolves(r), `section ${codes(s.code)[0]} entry ${r.reference} resolves`);

const of = (t) => entries.map((e) => e.resource).filter((r) => r && r.resourceType === t);
// Patient
const pats = of('Patient');
need(pats.length === 1, 'exactly one Patient');
for (const p of pats) {
  need(has(p.identifier), 'Patient.identifier');
  need(has(p.name) && p.name.every((n) => has(n.text)), 'Patient.name, each with text');
  need(p.name?.some((n) => n.extension?.some((x) => x.valueCode === 'SYL')) || p.name?.some((n) => n.extension?.some((x) => x.valueCode === 'IDE')),
    'Patient.name told apart by iso21090-EN-representation');
  need(has(p.gender), 'Patient.gender');
  need(has(p.birthDate), 'Patient.birthDate');
  need(p.address?.length === 1 && has(p.address[0].text), 'Patient.address one, with text');
}
// Organizations: the checkup institution by its 10-digit code
const orgs = of('Organization');
const prov = orgs.find((o) => (o.identifier || []).some((i) => i.system === 'urn:oid:1.2.392.100495.20.3.23' && /^\d{10}$/.test(i.value)));
need(prov, 'an Organization with a 10-digit urn:oid:1.2.392.100495.20.3.23 identifier');
for (const o of orgs) need(o.type?.length >= 1, 'Organization.type');
// Encounter
const encs = of('Encounter');
need(encs.length === 1, 'exactly one Encounter');
for (const en of encs) need(has(en.status) && has(en.class) && has(en.period?.start) && resolves(en.serviceProvider),
  'Encounter status, class, period and serviceProvider');
// Coverage
const covs = of('Coverage');
need(covs.length >= 1, 'a Coverage');
for (const c of covs) {
  need(c.type?.coding?.length === 1 && has(c.type.coding[0].system) && has(c.type.coding[0].code), 'Coverage.type one coding with system and code');
  need(c.payor?.length === 1 && c.payor.every(resolves), 'Coverage.payor one, resolving');
  need(has(c.subscriberId), 'Coverage.subscriberId');
  need(resolves(c.beneficiary), 'Coverage.beneficiary resolves');
  for (const x of c.extension || []) need(has(x.valueString), `Coverage extension ${x.url} has a value`);
  need((c.extension || []).some((x) => x.url.endsWith('JP_Coverage_InsuredPersonNumber')), 'Coverage 番号 extension');
}
const payor = covs[0] && entries.find((e) => e.fullUrl === covs[0].payor?.[0]?.reference)?.resource;
need(payor && (payor.identifier || []).some((i) => i.system === 'urn:oid:1.2.392.100495.20.3.61'), 'payor Organization has the insurer number');
// Observations
const obs = of('Observation');
need(obs.length >= 1, 'Observations');
obs.forEach((o) => {
  const c = codes(o.code)[0];
  need(has(o.status) && has(o.code) && resolves(o.subject) && has(o.effectiveDateTime), `Observation ${c}: status, code, subject, effective`);
  if (o.dataAbsentReason) need(has(o.dataAbsentReason.text), `Observation ${c}: dataAbsentReason.text`);
  for (const rr of o.referenceRange || []) {
    if (rr.low) need(has(rr.low.value), `Observation ${c}: referenceRange.low.value`);
    if (rr.high) need(has(rr.high.value), `Observation ${c}: referenceRange.high.value`);
  }
  for (const m of o.hasMember || []) {
    need(resolves(m), `group ${c}: member ${m.reference} resolves`);
    need((m.extension || []).some((x) => x.url.endsWith('observatioGroupRelationship') && has(x.valueCode)),
      `group ${c}: member relation extension`);
  }
});
const questionnaire = obs.some((o) => o.category?.some((cc) => codes(cc).includes('social-history')));
if (questionnaire) need(questions, 'Composition.section 01012 (questionnaire) when there are questionnaire answers');

if (fails.length) {
  console.log(`${process.argv[2]}: ${fails.length} required element(s) missing:\n  ${fails.join('\n  ')}`);
  process.exit(1);
}
console.log(`${process.argv[2]}: every required element present (${entries.length} entries)`);
