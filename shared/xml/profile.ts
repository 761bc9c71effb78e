// The BACEN XMLDSig profile (PIX.md § Signatures and transport) as constants shared by the signer, the
// verifier and the tests. One place, so the signer can never emit what the verifier refuses.
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const ALG_C14N_EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
export const ALG_RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const ALG_SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const ALG_ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** SPI: the ID values the signer gives the three signed parts when the input carries none. */
export const SPI_KEYINFO_ID = 'key-info-id';
export const SPI_APPHDR_ID = 'app-hdr-id';
export const SPI_DOCUMENT_ID = 'document-id';
/** the attribute that carries those IDs (xmlsec1 is told with `--id-attr:Id AppHdr --id-attr:Id Document`) */
export const SPI_ID_ATTR = 'Id';

/** RSA-2048 gives 256-byte signatures; the pool's wire format depends on it. */
export const RSA_SIGNATURE_BYTES = 256;
export const SHA256_BYTES = 32;
