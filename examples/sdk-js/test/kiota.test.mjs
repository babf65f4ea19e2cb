// The kiota JavaScript stack (@microsoft/kiota-http-fetchlibrary's
// FetchRequestAdapter and its default middleware, kiota-abstractions'
// RequestInformation and bearer authentication) against the mock over http
// on 127.0.0.1, as the beta SDK's request builders drive it: `make sdk-js`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FetchRequestAdapter } from '@microsoft/kiota-http-fetchlibrary';
import { AllowedHostsValidator, BaseBearerTokenAuthenticationProvider, HttpMethod, RequestInformation } from '@microsoft/kiota-abstractions';
import { JsonParseNodeFactory, JsonSerializationWriterFactory } from '@microsoft/kiota-serialization-json';

const base = process.env.MOCK_HTTP; // http://127.0.0.1:port
assert.ok(base?.startsWith('http://127.0.0.1:'), 'MOCK_HTTP names the mock over http');

const adapter = new FetchRequestAdapter(
  new BaseBearerTokenAuthenticationProvider({
    getAuthorizationToken: async () => 'kiota-token',
    getAllowedHostsValidator: () => new AllowedHostsValidator(new Set(['127.0.0.1'])),
  }),
  new JsonParseNodeFactory(), new JsonSerializationWriterFactory());
adapter.baseUrl = base + '/beta';

// request is a RequestInformation for a URL template of the beta SDK's.
const request = (method, template, params = {}, body) => {
  const ri = new RequestInformation(method, template);
  Object.assign(ri.pathParameters, params);
  ri.headers.tryAdd('Accept', 'application/json');
  if (body) {
    ri.setContentFromScalar(adapter, 'application/json', JSON.stringify(body));
    ri.content = new TextEncoder().encode(JSON.stringify(body));
  }
  return ri;
};
const json = async (ri) => JSON.parse(new TextDecoder().decode(await adapter.sendPrimitive(ri, 'ArrayBuffer', undefined)));

const membersRef = '{+baseurl}/applications/{application%2Did}/connectorGroup/members/$ref';
const members = '{+baseurl}/applications/{application%2Did}/connectorGroup/members{?%24top}';
const member = '{+baseurl}/applications/{application%2Did}/connectorGroup/members/{connector%2Did}';
const memberRef = '{+baseurl}/applications/{application%2Did}/connectorGroup/members/{connector%2Did}/$ref';

test('kiota: add, list with paging, read, remove, a missing member', async () => {
  const app = randomUUID();
  const ids = [];
  for (const name of ['k-1', 'k-2', 'k-3']) {
    const id = randomUUID();
    ids.push(id);
    await adapter.sendNoResponseContent(request(HttpMethod.POST, membersRef, { 'application%2Did': app },
      { id, externalIp: '203.0.113.41', machineName: name, status: 'active' }), undefined);
  }
  const list = request(HttpMethod.GET, members, { 'application%2Did': app });
  list.queryParameters['%24top'] = 2;
  const first = await json(list);
  assert.equal(first.value.length, 2);
  const next = new RequestInformation(HttpMethod.GET);
  next.URL = first['@odata.nextLink']; // as msgraph-sdk-core's PageIterator follows it
  const second = await json(next);
  assert.deepEqual([...first.value, ...second.value].map((m) => m.machineName), ['k-1', 'k-2', 'k-3']);
  const got = await json(request(HttpMethod.GET, member, { 'application%2Did': app, 'connector%2Did': ids[1] }));
  assert.equal(got.machineName, 'k-2');
  await adapter.sendNoResponseContent(request(HttpMethod.DELETE, memberRef, { 'application%2Did': app, 'connector%2Did': ids[1] }), undefined);
  await assert.rejects(json(request(HttpMethod.GET, member, { 'application%2Did': app, 'connector%2Did': ids[1] })), (e) => {
    assert.equal(e.responseStatusCode, 404);
    console.log(`  kiota: 3 adds (204), 2 pages (${first.value.length}+${second.value.length}), read ${got.machineName}, remove, read again: ${e.responseStatusCode}`);
    return true;
  });
});

test('kiota: the service path and references, an invalid body, throttling retried', async () => {
  const profile = '{+baseurl}/onPremisesPublishingProfiles/applicationProxy';
  const group = await json(request(HttpMethod.POST, `${profile}/connectorGroups`, {}, { name: 'kiota-group' }));
  const id = randomUUID();
  await adapter.sendNoResponseContent(request(HttpMethod.POST, `${profile}/connectorGroups/{connectorGroup%2Did}/members/$ref`,
    { 'connectorGroup%2Did': group.id }, { id, externalIp: '203.0.113.42', machineName: 'k-service', status: 'active' }), undefined);
  const app = randomUUID();
  await adapter.sendNoResponseContent(request(HttpMethod.POST, membersRef, { 'application%2Did': app },
    { '@odata.id': `https://graph.microsoft.com/beta/onPremisesPublishingProfiles/applicationProxy/connectors/${id}` }), undefined);
  const moved = await json(request(HttpMethod.GET, `${profile}/connectors/{connector%2Did}/memberOf`, { 'connector%2Did': id }));
  assert.deepEqual(moved.value.map((g) => g.id), [app]);

  await assert.rejects(adapter.sendNoResponseContent(request(HttpMethod.POST, membersRef, { 'application%2Did': app },
    { externalIp: '999.1.1.1', machineName: 'x', status: 'busy' }), undefined), (e) => {
    assert.equal(e.responseStatusCode, 400);
    return true;
  });

  // The mock limits each token to 20 requests a second (make sdk-js starts it so): kiota's RetryHandler waits.
  const started = Date.now();
  const pages = await Promise.all(Array.from({ length: 21 }, () => json(request(HttpMethod.GET, members, { 'application%2Did': app }))));
  assert.equal(pages.length, 21);
  const throttled = await fetch(`${base}/_admin/requests?status=429&$top=5`, { headers: { Authorization: 'Bearer admin' } }).then((r) => r.json());
  assert.ok(throttled.value.length >= 1, 'the mock answered 429 at least once');
  console.log(`  kiota: create a group, add at its path (204), by @odata.id at the application's (moved), an invalid body (400), ` +
    `21 lists at once with ${throttled.value.length} 429 retried after Retry-After in ${Date.now() - started} ms`);
});
