// The classic JavaScript client (@microsoft/microsoft-graph-client 3.0.7,
// its stock middleware: auth, retry, telemetry) against the mock over https
// (connector-mock --tls; NODE_EXTRA_CA_CERTS trusts its CA), as a Node app
// of a user would: `make sdk-js`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, PageIterator, GraphError, BatchRequestContent, BatchResponseContent } from '@microsoft/microsoft-graph-client';

const base = process.env.MOCK_HTTPS; // https://localhost:port
assert.ok(base?.startsWith('https://'), 'MOCK_HTTPS names the mock over https');
const host = new URL(base).hostname;

// client is the classic client for the mock: its base URL and host (the
// auth middleware adds the token only for Graph's hosts and customHosts).
const client = (token) => Client.init({
  authProvider: (done) => done(null, token),
  baseUrl: base + '/',
  defaultVersion: 'beta',
  customHosts: new Set([host]),
});

const connector = (name) => ({ externalIp: '203.0.113.40', machineName: name, status: 'active' });
const profile = '/onPremisesPublishingProfiles/applicationProxy';

test('add: both paths, both body forms', async () => {
  const c = client('classic-add');
  const app = randomUUID();
  const added = await c.api(`/applications/${app}/connectorGroup/members/$ref`)
    .header('Prefer', 'return=representation').post(connector('js-seed'));
  assert.equal(added.machineName, 'js-seed');
  assert.match(added.id, /^[0-9a-f-]{36}$/);
  const group = await c.api(`${profile}/connectorGroups`).post({ name: 'js-group' });
  assert.equal(group.name, 'js-group');
  await c.api(`${profile}/connectorGroups/${group.id}/members/$ref`).post(connector('js-service'));
  // By reference: the first connector moves from the application's group to this one.
  await c.api(`${profile}/connectorGroups/${group.id}/members/$ref`)
    .post({ '@odata.id': `${base}/beta${profile}/connectors/${added.id}` });
  const other = randomUUID();
  await c.api(`/applications/${other}/connectorGroup/members/$ref`)
    .post({ '@odata.id': `https://graph.microsoft.com/beta${profile}/connectors/${added.id}` });
  const page = await c.api(`${profile}/connectorGroups/${group.id}/members`).select('machineName').get();
  assert.deepEqual(page.value.map((m) => m.machineName), ['js-service']);
  console.log(`  add: 201 at /applications/…, 204 at …/connectorGroups/{id}/members/$ref, and by @odata.id at both; the connector moved`);
});

test('list page by page with PageIterator (https next links)', async () => {
  const c = client('classic-list');
  const app = randomUUID();
  for (const name of ['p-1', 'p-2', 'p-3']) {
    await c.api(`/applications/${app}/connectorGroup/members/$ref`).post(connector(name));
  }
  const first = await c.api(`/applications/${app}/connectorGroup/members`).top(1).get();
  assert.ok(first['@odata.nextLink'].startsWith(base + '/beta/'));
  const names = [];
  await new PageIterator(c, first, (m) => { names.push(m.machineName); return true; }).iterate();
  assert.deepEqual(names, ['p-1', 'p-2', 'p-3']);
  console.log(`  list: $top=1, PageIterator followed ${names.length - 1} https nextLinks: ${names.join(', ')}`);
});

test('read, remove, and a missing member as GraphError', async () => {
  const c = client('classic-read');
  const app = randomUUID();
  const m = await c.api(`/applications/${app}/connectorGroup/members/$ref`).header('Prefer', 'return=representation').post(connector('r-1'));
  const got = await c.api(`/applications/${app}/connectorGroup/members/${m.id}`).get();
  assert.equal(got.machineName, 'r-1');
  await c.api(`/applications/${app}/connectorGroup/members/${m.id}/$ref`).delete();
  await assert.rejects(c.api(`/applications/${app}/connectorGroup/members/${m.id}`).get(), (e) => {
    assert.ok(e instanceof GraphError);
    assert.equal(e.statusCode, 404);
    assert.equal(e.code, 'Request_ResourceNotFound');
    console.log(`  read: ${got.machineName}; remove: 204; read again: GraphError ${e.statusCode} ${e.code}`);
    return true;
  });
});

test('an invalid body: GraphError 400 with every violation', async () => {
  const c = client('classic-invalid');
  await assert.rejects(c.api(`/applications/${randomUUID()}/connectorGroup/members/$ref`)
    .post({ externalIp: '999.1.1.1', machineName: '', status: 'busy' }), (e) => {
    assert.ok(e instanceof GraphError);
    assert.equal(e.statusCode, 400);
    assert.equal(e.code, 'Request_BadRequest');
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    const details = (body.error ?? body).details.map((d) => d.target).sort();
    assert.deepEqual(details, ['/externalIp', '/machineName', '/status']);
    console.log(`  invalid: GraphError ${e.statusCode} ${e.code}, details at ${details.join(', ')}`);
    return true;
  });
});

test('throttling: 429 retried after Retry-After by the RetryHandler', async () => {
  // The mock limits each token to 20 requests a second (make sdk-js starts it so).
  const c = client('classic-throttle');
  const app = randomUUID();
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 21 }, () => c.api(`/applications/${app}/connectorGroup/members`).get()));
  assert.equal(answers.length, 21);
  const journal = await fetch(`${base}/_admin/requests?status=429&$top=5`, { headers: { Authorization: 'Bearer admin' } }).then((r) => r.json());
  assert.ok(journal.value.length >= 1, 'the mock answered 429 at least once');
  console.log(`  throttling: 21 lists at once, ${journal.value.length} answered 429 and retried after Retry-After; all 21 succeeded in ${Date.now() - started} ms`);
});

test('a batch through BatchRequestContent', async () => {
  const c = client('classic-batch');
  const app = randomUUID();
  const id = randomUUID();
  const request = (method, path, body) => new Request(`${base}/beta${path}`, {
    method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  // The classic client takes a batch's requests all in parallel, or each
  // after the one before: here each after the one before.
  const batch = new BatchRequestContent([
    { id: 'add', request: request('POST', `/applications/${app}/connectorGroup/members/$ref`, { id, ...connector('b-1') }) },
    { id: 'read', request: request('GET', `/applications/${app}/connectorGroup/members/${id}`), dependsOn: ['add'] },
    { id: 'bad', request: request('POST', `/applications/${app}/connectorGroup/members/$ref`, { status: 'busy' }), dependsOn: ['read'] },
    { id: 'after-bad', request: request('GET', `/applications/${app}/connectorGroup/members`), dependsOn: ['bad'] },
  ]);
  const answer = new BatchResponseContent(await c.api('/$batch').post(await batch.getContent()));
  const statuses = Object.fromEntries(['add', 'read', 'bad', 'after-bad'].map((k) => [k, answer.getResponseById(k).status]));
  assert.deepEqual(statuses, { add: 204, read: 200, bad: 400, 'after-bad': 424 });
  assert.equal((await answer.getResponseById('read').json()).machineName, 'b-1');
  console.log(`  batch: POST /beta/$batch → ${JSON.stringify(statuses)}`);
});
