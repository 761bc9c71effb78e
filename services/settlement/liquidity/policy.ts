// Liquidity of our PI account: pure decisions. A balance reading becomes a level (OK, WARNING, CRITICAL);
// a short forecast from the recent outflow rate raises WARNING early when the balance is on its way below
// the critical mark; an alert goes out when the level changes; and a CRITICAL balance triggers one
// automatic STR top-up (reserve → PI) per episode, at most topUpsPerDayMax a day.
// An episode starts when the level leaves OK and ends when it comes back: its id names the alerts and the
// STR TransferId, so a repeated decision (a restart, a retry) is the same transfer, applied once by BACEN.

export type Level = 'OK' | 'WARNING' | 'CRITICAL';

export interface LiquidityPolicy {
  warningCentavos: bigint;
  criticalCentavos: bigint;
  /** what one automatic top-up moves from the reserve account */
  topUpCentavos: bigint;
  topUpsPerDayMax: number;
  /** how far ahead the outflow rate is projected */
  forecastHorizonMs: number;
}

/** Samples kept for the outflow rate: with a reading every 10 s, the last 10 minutes. */
export const LIQUIDITY_SAMPLES_MAX = 60;

export interface Sample {
  atMs: number;
  balanceCentavos: bigint;
}

export interface LiquidityState {
  level: Level;
  episode: string | null;
  toppedUpInEpisode: boolean;
  /** UTC day (yyyy-mm-dd) and top-ups made on it */
  topUpDay: string;
  topUpsToday: number;
  samples: Sample[];
}

export const initialLiquidity = (): LiquidityState => ({ level: 'OK', episode: null, toppedUpInEpisode: false, topUpDay: '', topUpsToday: 0, samples: [] });

export function levelOf(balanceCentavos: bigint, p: LiquidityPolicy): Level {
  if (balanceCentavos < p.criticalCentavos) return 'CRITICAL';
  if (balanceCentavos < p.warningCentavos) return 'WARNING';
  return 'OK';
}

/** Projected balance `horizonMs` after the last sample, at the net outflow rate over the samples (inflows do not raise it). */
export function forecast(samples: readonly Sample[], horizonMs: number): bigint | undefined {
  if (samples.length < 2) return undefined;
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const spanMs = last.atMs - first.atMs;
  if (spanMs <= 0) return undefined;
  const outflow = first.balanceCentavos - last.balanceCentavos;
  if (outflow <= 0n) return last.balanceCentavos;
  return last.balanceCentavos - (outflow * BigInt(Math.round(horizonMs))) / BigInt(spanMs);
}

export interface Alert {
  level: Level;
  episode: string;
  balanceCentavos: bigint;
  forecastCentavos: bigint | undefined;
  /** the level comes from the forecast, not the balance itself */
  forecasted: boolean;
}

export interface Decision {
  state: LiquidityState;
  alert?: Alert;
  topUp?: { transferId: string; amountCentavos: bigint };
}

export function evaluate(prev: LiquidityState, sample: Sample, p: LiquidityPolicy): Decision {
  const samples = [...prev.samples, sample].slice(-LIQUIDITY_SAMPLES_MAX);
  const projected = forecast(samples, p.forecastHorizonMs);
  const actual = levelOf(sample.balanceCentavos, p);
  const forecasted = actual === 'OK' && projected !== undefined && projected < p.criticalCentavos;
  const level: Level = forecasted ? 'WARNING' : actual;
  const day = new Date(sample.atMs).toISOString().slice(0, 10);
  const state: LiquidityState = {
    ...prev,
    samples,
    level,
    topUpDay: day,
    topUpsToday: prev.topUpDay === day ? prev.topUpsToday : 0,
  };
  if (level === 'OK') {
    state.episode = null;
    state.toppedUpInEpisode = false;
  } else if (prev.episode === null) {
    state.episode = `LIQ-${sample.atMs.toString(36)}`;
    state.toppedUpInEpisode = false;
  }
  const decision: Decision = { state };
  if (level !== prev.level) {
    decision.alert = { level, episode: state.episode ?? prev.episode ?? `LIQ-${sample.atMs.toString(36)}`, balanceCentavos: sample.balanceCentavos, forecastCentavos: projected, forecasted };
  }
  if (actual === 'CRITICAL' && !state.toppedUpInEpisode && state.topUpsToday < p.topUpsPerDayMax && p.topUpCentavos > 0n) {
    decision.topUp = { transferId: `TOPUP-${state.episode}`, amountCentavos: p.topUpCentavos };
    state.toppedUpInEpisode = true;
    state.topUpsToday += 1;
  }
  return decision;
}
