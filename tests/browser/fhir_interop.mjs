// FHIR interop with real peers from npm (no browser used): every resource
// kind the facade serves validates with the `fhir` package's R4 validator
// (errors fail, value-set warnings do not: its bundled terminology is
// partial), and fhir-kit-client reads the CapabilityStatement, reads an
// Observation, searches Observations by code and date, and posts a
// transaction Bundle.
import pkg from 'fhir';
import { Client } from 'fhir-kit-client';
import { run, check, login, PW, MOBILE } from './lib.js';

const { Fhir } = pkg;
const fhir = new Fhir();
const ITEM = 'urn:oid:1.2.392.200119.6.1005';

function valid(res, what) {
  check(res && res.resourceType, `${what}: not a resource: ${JSON.stringify(res).slice(0, 300)}`);
  const out = fhir.validate(res, { errorOnUnexpected: true });
  const errors = out.messages.filter((m) => m.severity === 'error');
  check(errors.length === 0, `${what} fails R4 validation: ${JSON.stringify(errors.slice(0, 5))}`);
  return res;
}

async function session(base, user) {
  const r = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: user, password: PW }) });
  check(r.status === 200, `login ${user}: ${r.status}`);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const { csrf } = await r.json();
  return { cookie, csrf };
}

async function post(base, s, path, body) {
  const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: s.cookie, 'X-CSRF-Token': s.csrf }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

const bearer = (base, token) => new Client({ baseUrl: `${base}/fhir`, customHeaders: { Authorization: `Bearer ${token}` } });

await run('fhir_interop', async ({ base, codes, browser }) => {
  // A member with a bearer token, and staff tokens for admin and the institution.
  let r = await fetch(`${base}/api/enrol`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: codes[0], username: 'fhir_member', password: PW }) });
  check(r.status === 201, `enrol: ${r.status}`);
  const member = await session(base, 'fhir_member');
  const mt = await post(base, member, '/api/me/tokens', { label: 'fhir test' });
  check(mt.status === 201 || mt.status === 200, `member token: ${JSON.stringify(mt)}`);
  const admin = await session(base, 'admin');
  const at = await post(base, admin, '/api/tokens', { scope: 'read write', ttl_days: 1 });
  check(at.status === 201 || at.status === 200, `admin token: ${JSON.stringify(at)}`);
  const clinic = await session(base, 'clinic');
  const ct = await post(base, clinic, '/api/tokens', { scope: 'read write', ttl_days: 1 });
  check(ct.status === 201 || ct.status === 200, `clinic token: ${JSON.stringify(ct)}`);
  const me = bearer(base, mt.body.token), adm = bearer(base, at.body.token), inst = bearer(base, ct.body.token);

  // metadata through the client and the validator
  const cap = valid(await new Client({ baseUrl: `${base}/fhir` }).capabilityStatement(), 'CapabilityStatement');
  check(cap.fhirVersion === '4.0.1', `fhirVersion ${cap.fhirVersion}`);
  const types = cap.rest[0].resource.map((x) => x.type).sort().join(',');
  check(types === 'Composition,Consent,Group,Observation,Patient,ResearchStudy,Specimen', `served resources: ${types}`);

  // Observation search (all), by code, by date; read one
  const all = valid(await me.search({ resourceType: 'Observation', searchParams: {} }), 'Observation searchset');
  check(all.type === 'searchset' && all.total > 10, `own observations: ${all.total}`);
  const first = all.entry[0].resource;
  const subject = first.subject.reference;
  const code = first.code.coding[0].code, date = first.effectiveDateTime;
  const byCode = valid(await me.search({ resourceType: 'Observation', searchParams: { subject, code: `${ITEM}|${code}` } }), 'search by code');
  check(byCode.total >= 1 && byCode.entry.every((e) => e.resource.code.coding[0].code === code), `by code: ${byCode.total}`);
  const byDate = valid(await me.search({ resourceType: 'Observation', searchParams: { date } }), 'search by date');
  check(byDate.total >= 1 && byDate.total < all.total && byDate.entry.every((e) => e.resource.effectiveDateTime === date), `by date ${date}: ${byDate.total} of ${all.total}`);
  const ge = await me.search({ resourceType: 'Observation', searchParams: { date: `ge${date}` } });
  check(ge.entry.every((e) => e.resource.effectiveDateTime >= date), 'date=ge');
  const one = valid(await me.read({ resourceType: 'Observation', id: first.id }), 'Observation read');
  check(one.id === first.id && one.subject.reference === subject, 'read returns the same Observation');
  valid(await me.request('Patient/$everything'), 'Patient/$everything Bundle');

  // Consent: grant, then the member's own Consent resources validate
  check((await post(base, member, '/api/me/consents', { purpose: 'academic_research', granted: true })).status === 201, 'grant consent');
  const cons = valid(await me.search({ resourceType: 'Consent', searchParams: {} }), 'Consent searchset');
  check(cons.total === 1, `consents: ${cons.total}`);
  valid(await me.read({ resourceType: 'Consent', id: cons.entry[0].resource.id }), 'Consent read');

  // Specimen, ResearchStudy, Group through the admin's token
  const pseud = subject.slice('Patient/'.length);
  const sp = await post(base, admin, '/api/biobank/specimens', { barcode: 'FHIR0001', donor: pseud, type: 'serum', collected_on: '2024-05-10', quantity: 1.5, unit: 'mL' });
  check(sp.status === 201, `specimen: ${JSON.stringify(sp)}`);
  const specs = valid(await adm.search({ resourceType: 'Specimen', searchParams: { subject, type: 'serum' } }), 'Specimen searchset');
  check(specs.total === 1, `specimens: ${specs.total}`);
  valid(await adm.read({ resourceType: 'Specimen', id: specs.entry[0].resource.id }), 'Specimen read');
  const own = valid(await me.search({ resourceType: 'Specimen', searchParams: {} }), 'own Specimen searchset');
  check(own.total === 1, `member's specimens: ${own.total}`);
  const app = await post(base, admin, '/api/biobank/applications', { title: 'Interop study', pi: 'Dr B', organisation: 'Univ', purpose: 'academic_research', specimens: 'serum:1' });
  check(app.status === 201, `application: ${JSON.stringify(app)}`);
  const studies = valid(await adm.search({ resourceType: 'ResearchStudy', searchParams: {} }), 'ResearchStudy searchset');
  check(studies.total >= 1, 'studies');
  valid(await adm.read({ resourceType: 'ResearchStudy', id: String(app.body.id) }), 'ResearchStudy read');
  const grp = valid(await adm.read({ resourceType: 'Group', id: String(app.body.id) }), 'Group read');
  check(grp.quantity === 0, `nothing shipped yet: ${grp.quantity}`);

  // transaction through the client: a new observation for the member,
  // identified by the same identity the member's own hc08 export carries
  const xml = await (await fetch(`${base}/api/me/export.xml`, { headers: { Authorization: `Bearer ${mt.body.token}` } })).text();
  const idOf = (oid) => (xml.match(new RegExp(`<id root="${oid.replace(/\./g, '\\.')}" extension="([^"]*)"`)) || [])[1];
  const birth = xml.match(/<birthTime value="(\d{4})(\d\d)(\d\d)"/);
  const kana = xml.match(/<name use="SYL"><family>([^<]*)<\/family><given>([^<]*)<\/given>/);
  const sex = xml.match(/administrativeGenderCode code="(\d)"/)[1];
  const ident = [['1.2.392.200119.6.101', idOf('1.2.392.200119.6.101')], ['1.2.392.200119.6.204', idOf('1.2.392.200119.6.204')],
    ['1.2.392.200119.6.205', idOf('1.2.392.200119.6.205')], ['1.2.392.200119.6.211', idOf('1.2.392.200119.6.211')]]
    .filter(([, v]) => v).map(([s, v]) => ({ system: `urn:oid:${s}`, value: v }));
  const patient = { resourceType: 'Patient', identifier: ident, gender: sex === '1' ? 'male' : 'female', birthDate: `${birth[1]}-${birth[2]}-${birth[3]}` };
  if (kana) patient.name = [{ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', valueCode: 'SYL' }], family: kana[1], given: [kana[2]] }];
  const tx = { resourceType: 'Bundle', type: 'transaction', entry: [
    { resource: patient, request: { method: 'POST', url: 'Patient' } },
    { resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: ITEM, code: '9N006000000000001' }] }, effectiveDateTime: '2030-04-15', performer: [{ identifier: { system: 'urn:oid:1.2.392.200119.6.102', value: '1234567890' } }], valueQuantity: { value: 63.2, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } }, request: { method: 'POST', url: 'Observation' } },
  ] };
  valid(tx, 'the transaction Bundle we send');
  const txr = valid(await inst.transaction({ body: tx }), 'transaction-response');
  check(txr.type === 'transaction-response' && txr.entry[1].response.status === '201 Created', `transaction: ${JSON.stringify(txr)}`);
  const created = await me.read({ resourceType: 'Observation', id: txr.entry[1].response.location.split('/')[1] });
  check(created.effectiveDateTime === '2030-04-15' && created.valueQuantity.value === 63.2, `member reads the imported Observation: ${JSON.stringify(created)}`);
  let refused = 0;
  try { await inst.transaction({ body: { ...tx, type: 'batch' } }); } catch (e) { refused = e.response?.status; valid(e.response?.data, 'OperationOutcome'); }
  check(refused === 400, `batch must be refused with 400: ${refused}`);

  // The member's download screen links the hc08 download (no longer "準備中"),
  // one link per checkup, and the link serves the XML.
  const ctx = await browser.newContext(MOBILE);
  const page = await ctx.newPage();
  await login(page, base, 'fhir_member');
  await page.getByRole('heading', { name: '健診結果', level: 1 }).waitFor();
  await page.goto(`${base}/#/download`);
  await page.locator('#dl-xml').waitFor();
  check(await page.locator('#dl-xml').getAttribute('href') === '/api/me/export.xml', 'download link target');
  check(!(await page.content()).includes('準備中'), 'download screen must not say 準備中');
  const links = await page.locator('.dl-list a:not(.dl-ecr)').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  check(links.length === 4 && links.every((l) => /^\/api\/me\/export\.xml\?exam=\d+$/.test(l)), `one link per checkup: ${links}`);
  const got = await page.evaluate(async (u) => { const r = await fetch(u); return [r.status, r.headers.get('content-type'), (await r.text()).slice(0, 60)]; }, links[0]);
  check(got[0] === 200 && got[1].startsWith('application/xml') && got[2].startsWith('<?xml'), `download: ${got}`);
  // ... and beside it the eCheckupReport document of the same checkups.
  const ecrs = await page.locator('.dl-list a.dl-ecr').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  check(ecrs.length === 4 && ecrs.every((l, i) => l === `/fhir/Composition/${links[i].split('=')[1]}/$document`), `one eCheckupReport link per checkup: ${ecrs}`);
  check(await page.locator('#dl-ecr').getAttribute('href') === ecrs[0], 'latest eCheckupReport link');
  const doc = await page.evaluate(async (u) => { const r = await fetch(u); return [r.status, r.headers.get('content-type'), await r.json()]; }, ecrs[0]);
  check(doc[0] === 200 && doc[1].startsWith('application/fhir+json') && doc[2].type === 'document', `eCheckupReport download: ${doc.slice(0, 2)}`);
  valid(doc[2], 'eCheckupReport document');
  await ctx.close();
});
