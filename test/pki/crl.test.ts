// The dev CA's revocation list: issued with the PKI, listing each revoked certificate once, signed by
// the CA, renewed before it expires, and kept apart between copies of one PKI.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadCrl, normalizeSerial, revocationProblem } from '../../shared/crl.ts';
import { ensureCrl, PKI_CRL_DAYS, PKI_CRL_RENEW_DAYS, revokeCert, writeCrl } from '../../shared/pki.ts';
import { createTestPki, type TestPki } from '../sandbox/support/harness.ts';
import { copyOfCachedPki } from '../support/pki.ts';

const IDS = { ispb: '12345678', bacenIspb: '00038166' };
const DAY_MS = 24 * 3600 * 1000;
const serialOf = (cert: string) => normalizeSerial(new X509Certificate(readFileSync(cert)).serialNumber);

let dir: string;
let pki: TestPki;
beforeAll(() => {
  ({ dir, pki } = copyOfCachedPki(`sandbox-${IDS.ispb}-${IDS.bacenIspb}`, (d) => createTestPki(d, IDS), 'fluxiq-crl-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = () => {
  const loaded = loadCrl(pki.crl, pki.ca.cert);
  if (!loaded.ok) throw new Error(loaded.error);
  return loaded.value;
};

test('the dev PKI has a CRL signed by its CA at <PKI_DIR>/ca.crl, listing the revoked test certificate only', () => {
  expect(pki.crl).toBe(join(dir, 'ca.crl'));
  const list = load();
  expect([...list.revoked]).toEqual([serialOf(pki.revoked.cert)]);
  expect(list.nextUpdate!.getTime()).toBeGreaterThan(Date.now() + (PKI_CRL_RENEW_DAYS - 1) * DAY_MS);
  expect(revocationProblem(list, new X509Certificate(readFileSync(pki.revoked.cert)).serialNumber, new Date())?.code).toBe('CERT_REVOKED');
  expect(revocationProblem(list, new X509Certificate(readFileSync(pki.participant.cert)).serialNumber, new Date())).toBeNull();
});

test('revoking lists a certificate once, however often it is asked', () => {
  revokeCert(pki.ca, pki.stranger.cert);
  revokeCert(pki.ca, pki.stranger.cert);
  expect([...load().revoked].sort()).toEqual([serialOf(pki.revoked.cert), serialOf(pki.stranger.cert)].sort());
});

test('a copy of a PKI revokes in its own CA database, not in the one it was copied from', () => {
  const other = copyOfCachedPki(`sandbox-${IDS.ispb}-${IDS.bacenIspb}`, (d) => createTestPki(d, IDS), 'fluxiq-crl-copy-');
  try {
    revokeCert(other.pki.ca, other.pki.psps['10000001']!.cert);
    expect(load().revoked.has(serialOf(other.pki.psps['10000001']!.cert))).toBe(false);
  } finally {
    rmSync(other.dir, { recursive: true, force: true });
  }
});

test(`ensureCrl re-issues a CRL within ${PKI_CRL_RENEW_DAYS} days of its Next Update, and leaves a fresh one alone`, () => {
  const fresh = readFileSync(pki.crl, 'utf8');
  ensureCrl(pki.ca);
  expect(readFileSync(pki.crl, 'utf8')).toBe(fresh);
  // seen from a day past the renewal point, the current CRL is due
  ensureCrl(pki.ca, new Date(Date.now() + (PKI_CRL_DAYS - PKI_CRL_RENEW_DAYS + 1) * DAY_MS));
  expect(readFileSync(pki.crl, 'utf8')).not.toBe(fresh);
  expect(load().revoked.has(serialOf(pki.revoked.cert))).toBe(true);
});

test('a CRL past its Next Update refuses every certificate', () => {
  writeCrl(pki.ca, { lastUpdate: '20200101000000Z', nextUpdate: '20200201000000Z' });
  const problem = revocationProblem(load(), new X509Certificate(readFileSync(pki.participant.cert)).serialNumber, new Date());
  expect(problem?.code).toBe('CRL_HAS_EXPIRED');
  ensureCrl(pki.ca); // and ensureCrl replaces it
  expect(load().nextUpdate!.getTime()).toBeGreaterThan(Date.now());
});

test('a CRL from another CA does not load', () => {
  const loaded = loadCrl(pki.crl, join(dir, 'other-ca', 'ca.crt'));
  expect(loaded.ok).toBe(false);
  if (!loaded.ok) expect(loaded.error).toContain(`CRL ${pki.crl} is not a CRL signed by`);
});

test('serial numbers compare whatever their spelling', () => {
  expect(normalizeSerial('0x00ab:CD')).toBe('ABCD');
  expect(normalizeSerial('06611DBB972A4C')).toBe('6611DBB972A4C');
  expect(normalizeSerial('00')).toBe('0');
});
