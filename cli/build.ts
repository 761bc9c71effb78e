// `./fluxiq build`: the single binary. Everything the processes need is inside it: the CLI and every
// service, tinypool's thread entry and the signer's task file (extra entry points, which must sit at
// the paths tinypool and the signer compute at run time), and sql/ (the platform's and the sandbox's migrations, embedded with --asset under their paths).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT_DIR } from '../shared/config.ts';

export const BINARY_PATH = join(ROOT_DIR, 'dist', 'fluxiq');

export async function buildBinary(outfile = BINARY_PATH): Promise<number> {
  mkdirSync(resolve(outfile, '..'), { recursive: true });
  // entry points all under cli/ so cli/ is the bundle root: entry/worker.js and sign-worker.js then
  // sit next to the main module inside the binary
  const proc = Bun.spawnSync(
    ['bun', 'build', '--compile', '--minify', '--sourcemap', 'cli/main.ts', 'cli/entry/worker.ts', 'cli/sign-worker.ts', '--asset', 'sql', '--outfile', outfile],
    { cwd: ROOT_DIR, stdout: 'pipe', stderr: 'pipe' },
  );
  if (proc.exitCode !== 0) {
    console.error(`fluxiq: bun build failed:\n${proc.stderr.toString()}${proc.stdout.toString()}`);
    return 1;
  }
  console.log(`built ${outfile}`);
  return 0;
}
