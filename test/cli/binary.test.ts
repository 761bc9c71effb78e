// The single binary (`./fluxiq build`, what the Dockerfile ships) runs the CLI and the services with
// nothing beside it: migrations are embedded, the signer's worker threads start from inside it.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { buildBinary } from '../../cli/build.ts';
import { createDb } from '../../shared/db/client.ts';
import { dropSchema } from '../../shared/db/migrate.ts';
import { testConfig } from '../support/env.ts';
import { freePorts } from '../support/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'fluxiq-binary-'));
const binary = join(dir, 'fluxiq');
const [port] = (await freePorts(1)) as [number];
const config = testConfig('binary', { SPI_PORT: String(port) });
const env = { ...process.env, DB_SCHEMA: config.dbSchema, REDIS_PREFIX: config.redisPrefix, NATS_PREFIX: config.natsPrefix, SPI_PORT: String(port), PKI_DIR: config.pkiDir, LOG_LEVEL: 'warn' };
const database = createDb(config);
const children: Subprocess[] = [];

beforeAll(async () => {
  expect(await buildBinary(binary)).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await dropSchema(database.sql, config.dbSchema);
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]) => Bun.spawnSync([binary, ...args], { cwd: dir, env, stdout: 'pipe', stderr: 'pipe' });

describe('the compiled binary', () => {
  test('migrates a schema from its embedded sql/', async () => {
    const p = run(['migrate']);
    expect(p.stderr.toString()).toBe('');
    expect(p.exitCode).toBe(0);
    const rows = await database.sql<{ name: string }[]>`select name from ${database.sql(config.dbSchema)}.schema_migrations order by name`;
    expect(rows.map((r) => r.name)).toContain('0001_init.sql');
  });

  test('signs and verifies XML with the same profile as the checkout', () => {
    const file = join(dir, 'entry.xml');
    writeFileSync(file, '<CreateEntryRequest><Entry><Key>+5511987654321</Key></Entry><Signature/></CreateEntryRequest>');
    const signed = run(['xml', 'sign', file]);
    expect(signed.exitCode).toBe(0);
    writeFileSync(join(dir, 'signed.xml'), signed.stdout);
    expect(run(['xml', 'verify', join(dir, 'signed.xml')]).exitCode).toBe(0);
  });

  test('serves the SPI service to /ready', async () => {
    const child = Bun.spawn([binary, 'serve', 'spi'], { cwd: dir, env, stdout: 'pipe', stderr: 'pipe' });
    children.push(child);
    let ready = false;
    for (let i = 0; i < 250 && !ready; i++) {
      ready = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
      if (!ready) await Bun.sleep(100);
    }
    if (!ready) {
      child.kill('SIGKILL');
      console.error(await new Response(child.stdout).text(), await new Response(child.stderr).text());
    }
    expect(ready).toBe(true);
  }, 40_000);
});
