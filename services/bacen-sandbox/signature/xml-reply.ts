// Routes return an XmlReply; the signature plugin signs it with the `bacen` key on the way out, so no
// route can send an unsigned XML body.
import { buildCanonicalXml, el } from '../../../shared/xml/build.ts';

/** Which of BACEN's two signature placements (PIX.md § Signatures) the document takes. */
export type SignatureProfile = 'dict' | 'spi';

export class XmlReply {
  constructor(
    readonly xml: string,
    readonly profile: SignatureProfile = 'dict',
    readonly status = 200,
    /** extra response headers (DICT's PI-RateLimit-* headers) */
    readonly headers: Record<string, string> = {},
  ) {}
}

export const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

/** `<Root><A>1</A>...</Root>` from flat fields, written in canonical form so the signer takes its fast
 *  path (shared/xml/build.ts). */
export function xmlDocument(root: string, fields: Record<string, string | number>): string {
  return buildCanonicalXml(el(root, null, ...Object.entries(fields).map(([k, v]) => el(k, null, String(v)))));
}
