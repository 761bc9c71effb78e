// BACEN over mTLS for settlement: the PI account balance (camt.052) and STR transfers between our
// reserve account and our PI account. Requests are signed with our key (DICT placement, as the sandbox's
// STR endpoint requires); every answer must carry BACEN's signature, verified before it is believed.
import type { BacenClient } from '../../../shared/bacen/client.ts';
import { formatAmount, parseAmount } from '../../../shared/money.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import { parseCamt052 } from '../../../shared/spi/camt052.ts';
import { parseCamt053, type Camt053 } from '../../../shared/spi/camt053.ts';
import { buildCanonicalXml, el } from '../../../shared/xml/build.ts';
import { parseXml } from '../../../shared/xml/parse.ts';
import type { XmlSigner } from '../../../shared/xml/signer.ts';
import { verifyXmlSignature } from '../../../shared/xml/verify.ts';

export type StrDirection = 'TO_PI' | 'TO_RESERVE';
/** TransferId: 1–35 [A-Za-z0-9-]; BACEN applies a repeated id once (the STR transfer is idempotent on it). */
export const STR_TRANSFER_ID = /^[A-Za-z0-9-]{1,35}$/;

export interface StrTransferResult {
  piCentavos: bigint;
  reserveCentavos: bigint;
  /** BACEN had already applied this TransferId */
  replayed: boolean;
  /** our signed request and BACEN's signed answer, byte for byte: the evidence the audit trail keeps */
  signed: { request: string; answer: string };
}

export interface SettlementBacen {
  /** our PI account balance now (camt.052 ITBD) */
  balance(): Promise<Result<{ balanceCentavos: bigint; at: Date }>>;
  transfer(t: { id: string; direction: StrDirection; amountCentavos: bigint }): Promise<Result<StrTransferResult>>;
  /** BACEN's statement of our PI account over [from, to) (camt.053; the parser refuses one that does not balance) */
  statement(from: Date, to: Date): Promise<Result<Camt053>>;
}

export function createSettlementBacen(opts: { bacen: BacenClient; signer: XmlSigner; ispb: string; bacenIspb: string; trustedCaPem: string; bacenCertPem: string }): SettlementBacen {
  const { bacen, signer, ispb } = opts;
  const fromBacen = (xml: string): Result<null> => {
    const v = verifyXmlSignature(xml, { trustedCaPem: opts.trustedCaPem, certs: [opts.bacenCertPem] });
    if (!v.ok) return fail('RequestSignatureInvalid', `BACEN's answer does not verify: ${v.error.reason}`);
    if (v.value.ispb !== opts.bacenIspb) return fail('RequestSignatureInvalid', `the answer is signed by ${v.value.ispb ?? '(none)'}, not BACEN`);
    return ok(null);
  };
  const call = async (method: string, path: string, body?: string): Promise<Result<string>> => {
    const r = await bacen.request(method, path, body === undefined ? {} : { body, headers: { 'content-type': 'application/xml; charset=utf-8' } });
    // the client answers every 4xx as an error: a 409 is BACEN refusing the request (an STR transfer beyond
    // the balance), a decision, not an outage; the transfer is then recorded FAILED (transfers.ts)
    if (!r.ok && r.error.kind === 'http' && r.error.status === 409) return fail('Conflict', `BACEN refused ${path}: ${r.error.detail.slice(0, 200)}`);
    if (!r.ok) return fail('ServiceUnavailable', `BACEN ${method} ${path}: ${r.error.kind}`);
    if (r.value.status >= 300) return fail('ServiceUnavailable', `BACEN answered ${r.value.status} to ${method} ${path}`);
    const signed = fromBacen(r.value.body);
    return signed.ok ? ok(r.value.body) : signed;
  };

  return {
    async balance() {
      const xml = await call('GET', `/api/v1/balance/${ispb}`);
      if (!xml.ok) return xml;
      const parsed = parseCamt052(xml.value);
      if (!parsed.ok) return parsed;
      const report = parsed.value.message;
      if (report.accountIspb !== ispb) return fail('Conflict', `camt.052 is for ${report.accountIspb}, not us`);
      return ok({ balanceCentavos: report.balanceCentavos, at: report.at });
    },
    async statement(from, to) {
      const xml = await call('GET', `/api/v1/statement/${ispb}?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
      if (!xml.ok) return xml;
      const parsed = parseCamt053(xml.value);
      if (!parsed.ok) return parsed;
      if (parsed.value.message.accountIspb !== ispb) return fail('Conflict', `camt.053 is for ${parsed.value.message.accountIspb}, not us`);
      return ok(parsed.value.message);
    },
    async transfer({ id, direction, amountCentavos }) {
      if (!STR_TRANSFER_ID.test(id)) return fail('InvalidRequest', 'TransferId must be 1–35 [A-Za-z0-9-]', 'id', 'format');
      if (amountCentavos <= 0n) return fail('InvalidRequest', 'an STR transfer moves a positive amount', 'amountCentavos', 'positive');
      const request = buildCanonicalXml(el('StrTransferRequest', null, el('TransferId', null, id), el('Direction', null, direction), el('Amount', null, formatAmount(amountCentavos))));
      const signed = await signer.signDict(request);
      if (!signed.ok) return signed;
      const xml = await call('POST', `/api/v1/str/${ispb}/transfers`, signed.value);
      if (!xml.ok) return xml;
      const doc = parseXml(xml.value);
      if (!doc.ok) return doc;
      const r = doc.value['StrTransferResponse'] as Record<string, unknown> | undefined;
      const pi = parseAmount(String(r?.['PiBalance'] ?? ''), 'PiBalance');
      const reserve = parseAmount(String(r?.['ReserveBalance'] ?? ''), 'ReserveBalance');
      if (r?.['TransferId'] !== id || !pi.ok || !reserve.ok) return fail('Conflict', 'the STR answer does not match the request');
      return ok({ piCentavos: pi.value, reserveCentavos: reserve.value, replayed: String(r['Replayed']) === 'true', signed: { request: signed.value, answer: xml.value } });
    },
  };
}
