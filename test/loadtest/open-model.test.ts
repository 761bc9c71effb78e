// The load generator's rules: requests are scheduled at the phases' rates whatever the system does, bounded
// in count and in flight, latency counted from the scheduled start, the warm-up left out of the figures.
import { describe, expect, test } from 'bun:test';
import { runOpen, schedule } from '../../loadtest/lib/open-model.ts';

describe('the open-model schedule', () => {
  test('each phase contributes seconds × rate starts at even spacing, after the phases before it', () => {
    const s = schedule([{ seconds: 1, ratePerS: 4 }, { seconds: 0.5, ratePerS: 10 }], 100);
    expect(s).toEqual([0, 250, 500, 750, 1000, 1100, 1200, 1300, 1400]);
  });

  test('the count bound cuts the schedule', () => {
    expect(schedule([{ seconds: 10, ratePerS: 1_000 }], 25)).toHaveLength(25);
  });
});

describe('a run', () => {
  test('starts requests whether or not earlier ones finished, and counts only those after the warm-up', async () => {
    let concurrent = 0;
    let peak = 0;
    const r = await runOpen({
      phases: [{ seconds: 0.2, ratePerS: 200 }], warmupS: 0.1, countMax: 1_000, inFlightMax: 1_000, drainMsMax: 2_000,
      fire: async () => {
        concurrent++;
        peak = Math.max(peak, concurrent);
        await Bun.sleep(50); // slower than the 5 ms spacing: an open model keeps starting
        concurrent--;
        return { ok: true };
      },
    });
    expect(r.offered).toBe(40);
    expect(peak).toBeGreaterThan(3);
    expect(r.counted).toBe(20);
    expect(r.ok).toBe(20);
    expect(r.histogram.getValueAtPercentile(50)).toBeGreaterThanOrEqual(45_000); // µs, from the scheduled start
  });

  test('beyond the in-flight bound a request is skipped, not sent; failures are errors with a sample', async () => {
    let sent = 0;
    const r = await runOpen({
      phases: [{ seconds: 0.1, ratePerS: 200 }], warmupS: 0, countMax: 1_000, inFlightMax: 5, drainMsMax: 2_000,
      fire: async (i) => {
        sent++;
        await Bun.sleep(300);
        return i % 2 === 0 ? { ok: true } : { ok: false, detail: '503 Service Unavailable' };
      },
    });
    expect(sent).toBe(5);
    expect(r.skipped).toBe(15);
    expect(r.ok + r.errors).toBe(5);
    expect(r.errorSamples).toEqual(['503 Service Unavailable']);
  });
});
