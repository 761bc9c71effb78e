// The XML signer's tinypool task file as an entry point of the compiled binary (`./fluxiq build`):
// it lands beside the binary's main module as `sign-worker.js`, where shared/xml/sign-pool.ts looks
// for it when compiled.
export { default } from '../shared/xml/sign-worker.ts';
