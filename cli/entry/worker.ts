// In the compiled binary tinypool starts its threads from `<binary dir>/entry/worker.js`
// (import.meta.url + '/../entry/worker.js'). `./fluxiq build` compiles this file as an extra entry
// point at exactly that place; it is tinypool's own thread entry (the package does not export the path).
import '../../node_modules/tinypool/dist/entry/worker.js';
