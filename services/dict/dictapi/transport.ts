// One DICT call: sign the request (writes), send it over mTLS, verify the signed response (the caller
// parses it with the spec's message codec).
// DICT's answers must be verified by the client (PIX.md § Signatures): the signature must chain to the
// trusted CA, be made with BACEN's certificate, and carry BACEN's ISPB. An unverifiable answer is
// treated like no answer (503), never acted upon.
import type { BacenClient } from '../../../shared/bacen/client.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import type { Logger } from '../../../shared/telemetry.ts';
import type { XmlSigner } from '../../../shared/xml/signer.ts';
import { verifyXmlSignatureFast } from '../../../shared/xml/verify-fast.ts';
import { fromBacenError } from './errors.ts';

export const DICT_API_BASE = '/api/v2';

export interface DictTransportOptions {
  bacen: BacenClient;
  signer: XmlSigner;
  /** PEM of the CA that issues BACEN's certificate */
  trustedCaPem: string;
  /** PEM of BACEN's DICT signing certificate: responses must be signed with it */
  bacenCertPem: string;
  bacenIspb: string;
  logger: Logger;
}

export interface DictReply {
  status: number;
  headers: Record<string, string>;
  xml: string;
}

export interface DictTransport {
  /** a GET of a non-XML resource (CID set files): mTLS, no signature */
  fetchRaw(operation: string, path: string): Promise<Result<string>>;
  call(operation: string, method: string, path: string, opts?: { body?: string; headers?: Record<string, string> }): Promise<Result<DictReply>>;
}

export function createDictTransport(o: DictTransportOptions): DictTransport {
  const log = o.logger.child({ component: 'dict-api' });
  return {
    async fetchRaw(operation, path) {
      const res = await o.bacen.request('GET', path.startsWith(DICT_API_BASE) ? path : DICT_API_BASE + path, { headers: { accept: '*/*' } });
      if (!res.ok) return { ok: false, error: fromBacenError(res.error, operation) };
      return ok(res.value.body);
    },
    async call(operation, method, path, opts = {}) {
      let body: string | undefined;
      if (opts.body !== undefined) {
        const signed = await o.signer.signDict(opts.body);
        // we build every request ourselves: one we cannot sign is a bug in the builder
        if (!signed.ok) throw new Error(`cannot sign ${operation} request: ${signed.error.detail}`);
        body = signed.value;
      }
      const res = await o.bacen.request(method, DICT_API_BASE + path, { ...(body !== undefined ? { body } : {}), ...(opts.headers ? { headers: opts.headers } : {}) });
      if (!res.ok) return { ok: false, error: fromBacenError(res.error, operation) };
      const { status, headers, body: xml } = res.value;
      const verified = verifyXmlSignatureFast(xml, { trustedCaPem: o.trustedCaPem, certs: [o.bacenCertPem] });
      if (!verified.ok) {
        log.error({ operation, reason: verified.error.reason }, 'DICT response signature does not verify; answer discarded');
        return fail('ServiceUnavailable', `DICT ${operation} answer has an invalid signature: ${verified.error.reason}`);
      }
      if (verified.value.ispb !== o.bacenIspb) {
        log.error({ operation, ispb: verified.value.ispb }, 'DICT response signed by someone other than BACEN; answer discarded');
        return fail('ServiceUnavailable', `DICT ${operation} answer is signed by ISPB ${verified.value.ispb}, not BACEN`);
      }
      return ok({ status, headers, xml });
    },
  };
}
