import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../shared/config.ts';
import { keyRingFromConfig } from '../../services/settlement/auth/keys.ts';

describe('JWT_KEYS', () => {
  test('kid:secret pairs, the first signing; a short secret or a bad kid stops the start with one line', () => {
    const secret = 's'.repeat(32);
    expect(loadConfig({ JWT_KEYS: `new:${secret},old:${secret}` }).jwtKeys).toBe(`new:${secret},old:${secret}`);
    expect(() => loadConfig({ JWT_KEYS: 'k1:short' })).toThrow(ConfigError);
    expect(() => loadConfig({ JWT_KEYS: `bad kid:${secret}` })).toThrow(/kid/);
    expect(() => loadConfig({ JWT_KEYS: secret })).toThrow(/kid:secret/);
    const ring = keyRingFromConfig({ jwtKeys: `new:${secret},old:${secret}` });
    expect(ring.currentKid).toBe('new');
    expect(ring.kids).toEqual(['new', 'old']);
  });

  test('empty on a dev machine: a random key is generated once into a 0600 file and reused', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fluxiq-jwt-')), 'var', 'jwt-keys');
    const first = keyRingFromConfig({ jwtKeys: '' }, file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^dev-[a-z0-9]+:[A-Za-z0-9_-]{64}\n$/);
    const second = keyRingFromConfig({ jwtKeys: '' }, file);
    expect(second.currentKid).toBe(first.currentKid);
    const token = await first.sign({ sub: 'x', exp: Math.floor(Date.now() / 1000) + 60, aud: 'a' });
    expect((await second.verify(token, new Date(), 'a')).ok).toBe(true);
  });
});
