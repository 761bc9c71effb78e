// Every write must be signed by the caller (PIX.md § Signatures): the XMLDSig signature verifies, it
// was made with the certificate the caller presented in TLS, and its ISPB is the caller's. Every XML
// body the sandbox sends is signed with the `bacen` key.
import { Elysia } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';
import type { XmlSigner, XmlVerifier } from '../deps.ts';
import { exchangePlugin, type Exchange } from '../transport/exchange.ts';
import { XML_CONTENT_TYPE, XmlReply } from './xml-reply.ts';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The one route that answers a bad signature itself: SPI's message intake, which answers a payment or
 * return whose signature fails with a signed pacs.002 RJCT DS0G in the sender's inbox (PIX.md § SPI
 * messages; spi/routes.ts). For it the hook records the verdict instead of refusing; the route must read
 * it with signatureVerdictOf, which throws when no verdict was recorded (fail-closed). Every other write,
 * DICT's included, is refused here with 400 RequestSignatureInvalid as before.
 */
const SELF_ANSWERED_PATH = /^\/api\/v1\/out\/[0-9A-Z]{8}\/msgs$/;
const verdicts = new WeakMap<Exchange, Result<null>>();

/** The signature verdict of this write; a broken invariant when the signature hook did not run. */
export function signatureVerdictOf(exchange: Exchange): Result<null> {
  const v = verdicts.get(exchange);
  if (!v) throw new Error('no signature verdict for this write: the signature plugin did not run before the route');
  return v;
}

/** The decision, as a value; the hook below turns a failure into the 400 problem. */
export async function checkWriteSignature(verifier: XmlVerifier, exchange: Exchange): Promise<Result<null>> {
  const { body, caller } = exchange;
  if (body.trim() === '') return fail('RequestSignatureInvalid', 'a write must carry a signed XML body');
  // the signature must be made with the very certificate of this TLS connection (not merely one from
  // the dev CA), so a participant cannot present another's signed document as its own
  const verified = await verifier.verify(body, caller.certificatePem);
  if (!verified.ok) return fail('RequestSignatureInvalid', `signature does not verify against the caller's certificate: ${verified.error.detail}`);
  const { ispb } = verified.value;
  if (ispb !== caller.ispb) return fail('RequestSignatureInvalid', `signed by ISPB ${ispb ?? '(none)'} but the TLS certificate is ISPB ${caller.ispb}`);
  return ok(null);
}

export function signaturePlugin(deps: { signer: XmlSigner; verifier: XmlVerifier }) {
  const { signer, verifier } = deps;
  return new Elysia({ name: 'sandbox-signature' })
    .use(exchangePlugin)
    .onBeforeHandle({ as: 'global' }, async ({ request, exchange }) => {
      if (!WRITE_METHODS.has(request.method)) return;
      const checked = await checkWriteSignature(verifier, exchange);
      verdicts.set(exchange, checked);
      if (!checked.ok && !SELF_ANSWERED_PATH.test(new URL(request.url).pathname)) throw HttpProblem.fromDomain(checked.error);
    })
    .mapResponse({ as: 'global' }, async ({ responseValue }) => {
      if (!(responseValue instanceof XmlReply)) return;
      const signed = responseValue.profile === 'spi' ? await signer.signSpi(responseValue.xml) : await signer.signDict(responseValue.xml);
      // the sandbox builds these documents itself: one it cannot sign is a bug, answered 500 and logged
      if (!signed.ok) throw new Error(`sandbox could not sign its own ${responseValue.profile} reply: ${signed.error.detail}`);
      return new Response(signed.value, { status: responseValue.status, headers: { ...responseValue.headers, 'content-type': XML_CONTENT_TYPE } });
    });
}
