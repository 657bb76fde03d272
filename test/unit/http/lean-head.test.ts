import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEAN_HEAD_MAX, parseLeanHead } from '../../../core/http/lean-head.js';

test('a plain GET: method, target, version, lowercased headers, duplicates combined as node:http does', () => {
  const h = parseLeanHead(
    'GET /boot/vmlinuz?mac=52:54:00:12:34:56 HTTP/1.1\r\nHost: x\r\nHOST: y\r\nAccept: a\r\naccept:  b \r\nRange: bytes=0-9',
  );
  assert.deepEqual(h, {
    method: 'GET',
    url: '/boot/vmlinuz?mac=52:54:00:12:34:56',
    httpVersion: '1.1',
    keepAlive: true,
    headers: { host: 'x', accept: 'a, b', range: 'bytes=0-9' },
  });
});

test('keep-alive: HTTP/1.1 unless close; HTTP/1.0 only when asked; close wins', () => {
  const ka = (head: string) => parseLeanHead(head)?.keepAlive;
  assert.equal(ka('GET / HTTP/1.1'), true);
  assert.equal(ka('GET / HTTP/1.1\r\nConnection: Close'), false);
  assert.equal(ka('GET / HTTP/1.0'), false);
  assert.equal(ka('HEAD / HTTP/1.0\r\nConnection: keep-alive'), true);
  assert.equal(ka('GET / HTTP/1.0\r\nConnection: keep-alive, close'), false);
  assert.equal(ka('GET / HTTP/1.1\r\nContent-Length: 0'), true, 'an empty body is no body');
});

test('declined (left to node:http): other methods, forms, versions, bodies, Expect/Upgrade, bad lines, big heads', () => {
  for (const head of [
    'POST / HTTP/1.1',
    'get / HTTP/1.1',
    'GET http://host/x HTTP/1.1',
    'GET * HTTP/1.1',
    'GET / HTTP/2.0',
    'GET /  HTTP/1.1',
    'GET / HTTP/1.1\r\nContent-Length: 5',
    'GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0',
    'GET / HTTP/1.1\r\nTransfer-Encoding: chunked',
    'GET / HTTP/1.1\r\nExpect: 100-continue',
    'GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade',
    'GET / HTTP/1.1\r\nX-Fold: a\r\n b',
    'GET / HTTP/1.1\r\nNo colon',
    'GET / HTTP/1.1\r\nBad Name: v',
    'GET / HTTP/1.1\r\nX: a\rb',
    'GET / HTTP/1.1\r\nX: a\nb',
    'GET / HTTP/1.1\r\nX: \x01',
    `GET / HTTP/1.1\r\nX: ${'a'.repeat(LEAN_HEAD_MAX)}`,
    '\r\nGET / HTTP/1.1',
  ]) {
    assert.equal(parseLeanHead(head), undefined, JSON.stringify(head));
  }
});
