/** SASL mechanisms, known answers from the RFC examples (RFC 4616 §4, RFC 7628 §4.1 and §4.3) and Google's XOAUTH2 page. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64, encodeBase64 } from '../../src/encoding/base64.ts';
import { oauthBearerChallenge, parseLoginStep, parseOAuthBearer, parsePlain, parseXOAuth2, xoauth2Challenge } from '../../src/auth/sasl.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('RFC 4616 §4 PLAIN examples', () => {
  assert.deepEqual(parsePlain(bytes('\0tim\0tanstaaftanstaaf')), { authzid: '', username: 'tim', password: 'tanstaaftanstaaf' });
  assert.deepEqual(parsePlain(bytes('Ursel\0Kurt\0xipj3plmq')), { authzid: 'Ursel', username: 'Kurt', password: 'xipj3plmq' });
  assert.equal(parsePlain(bytes('\0tim')), null, 'no password');
  assert.equal(parsePlain(bytes('\0\0pw')), null, 'empty authcid');
  assert.equal(parsePlain(bytes('a\0b\0c\0d')), null, 'extra NUL');
});

test('LOGIN mechanism: the challenges are "Username:" and "Password:" in base64; responses are UTF-8 without NUL', () => {
  assert.equal(encodeBase64(bytes('Username:')), 'VXNlcm5hbWU6');
  assert.equal(encodeBase64(bytes('Password:')), 'UGFzc3dvcmQ6');
  assert.equal(parseLoginStep(bytes('jürgen')), 'jürgen');
  assert.equal(parseLoginStep(bytes('a\0b')), null);
  assert.equal(parseLoginStep(new Uint8Array([0xff, 0xfe])), null);
});

test('RFC 7628 §4.1 OAUTHBEARER initial response', () => {
  const ir = 'bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB';
  assert.deepEqual(parseOAuthBearer(decodeBase64(ir)!), {
    authzid: 'user@example.com', token: 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==', host: 'server.example.com', port: 143,
  });
});

test('RFC 7628 §4.3: an empty auth= is well-formed (asks for the error challenge), and the challenge JSON is byte-exact', () => {
  const ir = 'bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9AQE=';
  assert.deepEqual(parseOAuthBearer(decodeBase64(ir)!), { authzid: 'user@example.com', token: '', host: 'server.example.com', port: 143 });
  const challenge = oauthBearerChallenge({
    status: 'invalid_token', scope: 'example_scope', openidConfiguration: 'https://example.com/.well-known/openid-configuration',
  });
  assert.equal(encodeBase64(challenge),
    'eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4' +
    'YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=');
});

test('OAUTHBEARER: GS2 header rules (RFC 7628 §3.1, RFC 5801 §4)', () => {
  const p = (s: string) => parseOAuthBearer(bytes(s));
  assert.deepEqual(p('n,,\x01auth=Bearer abc\x01\x01'), { authzid: '', token: 'abc' }, 'no authzid');
  assert.deepEqual(p('y,a=a=2Cb=3Dc@x,\x01auth=bearer abc\x01\x01'), { authzid: 'a,b=c@x', token: 'abc' }, 'escaped saslname, scheme case-insensitive');
  assert.equal(p('p=tls-unique,,\x01auth=Bearer abc\x01\x01'), null, 'channel binding is not offered');
  assert.equal(p('n,a=bad=name,\x01auth=Bearer abc\x01\x01'), null, 'bad escape');
  assert.equal(p('n,,\x01auth=Bearer abc\x01'), null, 'missing final ^A');
  assert.equal(p('n,,\x01host=x\x01\x01'), null, 'no auth pair');
  assert.equal(p('n,,\x01auth=Bearer abc\x01port=x1\x01\x01'), null, 'bad port');
  assert.equal(p('n,,\x01auth=Bearer a\x01auth=Bearer b\x01\x01'), null, 'duplicate key');
});

test('XOAUTH2: the Google example, and its error challenge', () => {
  const ir = 'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==';
  assert.deepEqual(parseXOAuth2(decodeBase64(ir)!), { authzid: 'someuser@example.com', token: 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg' });
  assert.equal(parseXOAuth2(bytes('auth=Bearer x\x01\x01')), null, 'user is required');
  assert.deepEqual(JSON.parse(new TextDecoder().decode(xoauth2Challenge({ status: 'invalid_token', scope: 'https://mail.example.com/' }))),
    { status: '401', schemes: 'Bearer', scope: 'https://mail.example.com/' });
});
