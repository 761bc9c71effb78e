// The other parties of the simulation: BACEN's SPI (settles each EndToEndId once, answers a copy with
// AM05, keeps our pacs.002s in a stream we pull), JetStream (dedup by Nats-Msg-Id, redelivers what is not
// acked), a batch consumer with startBatchConsumer's contract (ack only after the batch is durable) that
// projects settled payments, and a client that retries with the same Idempotency-Key.
import type { Rng } from './prng.ts';
import { PULL_REPORTS_MAX, type Report } from './psp.ts';
import { Crash, type World } from './world.ts';

export class Spi {
  seen = new Set<string>();
  settled = new Map<string, bigint>();
  settleCount = new Map<string, number>();
  outbox: Report[] = [];

  constructor(readonly w: World, readonly rejectRate: number) {
    w.register('spi', (m: any) => {
      if (m.kind === 'pacs008') return this.#pacs008(m.e2e, m.amountCentavos);
      if (m.kind === 'pull') return w.send('spi', 'psp', { kind: 'pulled', reports: this.outbox.slice(m.cursor, m.cursor + PULL_REPORTS_MAX) });
    });
  }

  #pacs008(e2e: string, amountCentavos: bigint): void {
    if (this.seen.has(e2e)) return this.#report(e2e, 'RJCT', 'AM05');
    this.seen.add(e2e);
    // SPI decides after its own processing time
    this.w.at(this.w.rng.int(1, 50), () => {
      if (this.w.rng.chance(this.rejectRate)) return this.#report(e2e, 'RJCT', 'AC03');
      this.settled.set(e2e, amountCentavos);
      this.settleCount.set(e2e, (this.settleCount.get(e2e) ?? 0) + 1);
      this.#report(e2e, 'ACSC', undefined);
    });
  }

  #report(e2e: string, status: Report['status'], reason: Report['reason']): void {
    this.outbox.push({ seq: this.outbox.length, e2e, status, reason });
  }
}

export const STREAM_ACK_WAIT_MS = 1_000;
export const STREAM_DEDUP_WINDOW_MS = 120_000;
export const CONSUMER_BATCH_MAX = 4;
export const CONSUMER_BATCH_WAIT_MS = 20;

interface StreamMsg { seq: number; msgId: string; e2e: string; status: string; amountCentavos: bigint }

export class Stream {
  log: StreamMsg[] = [];
  #ids = new Map<string, number>();
  #unacked = new Map<number, number>(); // seq → redeliver at
  #acked = new Set<number>();

  constructor(readonly w: World) {
    w.register('stream', (m: any) => {
      if (m.kind === 'publish') return this.#publish(m);
      if (m.kind === 'ack') {
        this.#acked.add(m.seq);
        this.#unacked.delete(m.seq);
      }
    });
  }

  #publish(m: Omit<StreamMsg, 'seq'>): void {
    const first = this.#ids.get(m.msgId);
    if (first === undefined || this.w.now() - first > STREAM_DEDUP_WINDOW_MS) {
      this.#ids.set(m.msgId, this.w.now());
      const msg = { seq: this.log.length, msgId: m.msgId, e2e: m.e2e, status: m.status, amountCentavos: m.amountCentavos };
      this.log.push(msg);
      this.#deliver(msg);
    }
    this.w.send('stream', 'psp', { kind: 'puback', msgId: m.msgId });
  }

  #deliver(msg: StreamMsg): void {
    this.#unacked.set(msg.seq, this.w.now() + STREAM_ACK_WAIT_MS);
    this.w.send('stream', 'consumer', { kind: 'deliver', ...msg });
    this.w.at(STREAM_ACK_WAIT_MS, () => {
      if (!this.#acked.has(msg.seq)) this.#deliver(msg);
    });
  }
}

/** Durable side of the consumer: the projection and the event ids it already counted, one transaction per batch. */
export class ConsumerDurable {
  settledCentavos = 0n;
  countedByE2e = new Map<string, number>();
  seenMsgIds = new Set<string>();
}

export class Consumer {
  #batch: StreamMsg[] = [];
  #timer = false;
  epoch = 0;

  constructor(readonly w: World, readonly d: ConsumerDurable) {
    w.register('consumer', (m: any) => {
      this.#batch.push(m);
      if (this.#batch.length >= CONSUMER_BATCH_MAX) return this.#flush();
      if (!this.#timer) {
        this.#timer = true;
        const epoch = this.epoch;
        w.at(CONSUMER_BATCH_WAIT_MS, () => {
          if (epoch !== this.epoch || !w.isUp('consumer')) return;
          this.#timer = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    const batch = this.#batch.splice(0);
    if (batch.length === 0) return;
    try {
      this.w.maybeCrash('consumer');
      for (const m of batch) {
        if (this.d.seenMsgIds.has(m.msgId)) continue;
        this.d.seenMsgIds.add(m.msgId);
        if (m.status === 'SETTLED') {
          this.d.settledCentavos += m.amountCentavos;
          this.d.countedByE2e.set(m.e2e, (this.d.countedByE2e.get(m.e2e) ?? 0) + 1);
        }
      }
      this.w.maybeCrash('consumer');
      for (const m of batch) this.w.send('consumer', 'stream', { kind: 'ack', seq: m.seq });
    } catch (e) {
      if (!(e instanceof Crash)) throw e;
      this.w.log('consumer CRASH');
      this.w.setUp('consumer', false);
      this.epoch++;
      this.#batch = [];
      this.#timer = false;
      this.w.at(this.w.rng.int(10, 400), () => this.w.setUp('consumer', true));
    }
  }
}

export interface Order { key: string; amountCentavos: bigint; hash: string; answers: { status: number; body: string }[]; misuseAnswers: number[] }

export const CLIENT_RETRY_MS = 1_500;

/** Sends each order, retries the same key and body until a final answer, and sometimes reuses a key with another body. */
export class Client {
  orders = new Map<string, Order>();

  constructor(readonly w: World, rng: Rng, count: number) {
    for (let i = 0; i < count; i++) {
      const amountCentavos = BigInt(rng.int(1, 5_000));
      const key = `idem-${i}`;
      this.orders.set(key, { key, amountCentavos, hash: `h${amountCentavos}`, answers: [], misuseAnswers: [] });
    }
    w.register('client', (m: any) => {
      const o = this.orders.get(m.key)!;
      if (m.hash !== o.hash) return o.misuseAnswers.push(m.status);
      const first = finalAnswer(o) === undefined;
      o.answers.push({ status: m.status, body: m.body });
      // once answered, the client sometimes sends another body under the same key (a client bug): 422
      if (first && m.status !== 409 && this.w.rng.chance(0.2)) {
        this.w.send('client', 'psp', { kind: 'submit', key: o.key, hash: `${o.hash}-other`, amountCentavos: o.amountCentavos + 1n });
      }
    });
  }

  start(): void {
    let t = 0;
    for (const o of this.orders.values()) {
      t += this.w.rng.int(0, 200);
      this.w.at(t, () => this.#attempt(o));
    }
  }

  #attempt(o: Order): void {
    if (finalAnswer(o) !== undefined) return;
    this.w.send('client', 'psp', { kind: 'submit', key: o.key, hash: o.hash, amountCentavos: o.amountCentavos });
    this.w.at(CLIENT_RETRY_MS, () => this.#attempt(o));
  }
}

/** 409 (the first request still runs) is not an answer; the client asks again. */
export const finalAnswer = (o: Order) => o.answers.find((a) => a.status !== 409);
