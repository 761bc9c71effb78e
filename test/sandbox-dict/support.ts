// A sandbox with the DICT plus two callers: our participant (12345678) and simulated PSP 10000002, each
// with its own mTLS client and signer. `call` signs write bodies with the caller's key and checks every
// XML answer is signed by BACEN, then hands back status, body and the problem type name on errors.
import { readPem } from '../../shared/pki.ts';
import type { Message } from '../../shared/dict/xml-codec.ts';
import type { BacenClient } from '../../shared/bacen/client.ts';
import type { XmlSigner } from '../../services/bacen-sandbox/deps.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/support/harness.ts';

/** Creating the dev PKI (openssl) and the sandbox takes ~1 s alone and several on a loaded 2-core box. */
export const FIXTURE_START_MS_MAX = 30_000;

export const US = '12345678';
export const PSP = '10000002';

export interface Caller {
  ispb: string;
  client: BacenClient;
  signer: XmlSigner;
}

export interface Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** the DICT error name (`type` after the last slash) when status ≥ 400 */
  error?: string;
  problem?: { type: string; detail: string; violations?: { field: string; rule: string }[] };
}

export interface DictFixture {
  t: TestSandbox;
  us: Caller;
  psp: Caller;
  call(who: Caller, method: string, path: string, xml?: string, headers?: Record<string, string>): Promise<Answer>;
  parse<T>(msg: Message<T>, a: Answer): T;
  advanceDays(days: number): Promise<void>;
}

export async function startDictFixture(name: string): Promise<DictFixture> {
  const t = await startTestSandbox(name);
  const pspFiles = t.pki.psps[PSP]!;
  const us: Caller = { ispb: US, client: t.client(), signer: await t.signerFor(t.pki.participant) };
  const psp: Caller = { ispb: PSP, client: t.client({ ...pspFiles, ca: t.pki.ca.cert }), signer: await t.signerFor(pspFiles) };
  const bacenCert = readPem(t.pki.bacen.cert);
  // the simulated PSPs stay idle unless a test sets rules: these tests drive both sides themselves
  await t.control('PUT', '/dict/rules', { donor: { acknowledge: false, resolve: 'NEVER' }, claimer: { complete: false }, infractions: { acknowledge: false, close: 'NEVER' }, refunds: { close: 'NEVER' } });

  async function call(who: Caller, method: string, path: string, xml?: string, headers?: Record<string, string>): Promise<Answer> {
    let body: string | undefined;
    if (xml !== undefined) {
      const signed = await who.signer.signDict(xml);
      if (!signed.ok) throw new Error(`test could not sign: ${signed.error.detail}`);
      body = signed.value;
    }
    const r = await who.client.request(method, path, { ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
    if (!r.ok) {
      if (r.error.kind !== 'http') throw new Error(`transport failure ${r.error.kind}`);
      const problem = r.error.problem as Answer['problem'];
      return { status: r.error.status ?? 0, body: r.error.body ?? '', headers: {}, ...(problem ? { problem, error: problem.type.split('/').pop()! } : {}) };
    }
    if (r.value.headers['content-type']?.includes('xml')) {
      const verified = await t.verifier.verify(r.value.body, bacenCert);
      if (!verified.ok) throw new Error(`sandbox answer is not signed by BACEN: ${verified.error.detail}`);
    }
    return { status: r.value.status, body: r.value.body, headers: r.value.headers };
  }

  return {
    t,
    us,
    psp,
    call,
    parse<T>(msg: Message<T>, a: Answer): T {
      const r = msg.parse(a.body);
      if (!r.ok) throw new Error(`answer is not a ${msg.root}: ${r.error.detail}\n${a.body}`);
      return r.value;
    },
    async advanceDays(days: number) {
      const r = await t.control('POST', '/clock/advance', { ms: days * 86_400_000 });
      if (r.status !== 200) throw new Error('clock did not advance');
    },
  };
}
