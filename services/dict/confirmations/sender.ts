// How a confirmation code reaches the end user who claims to own a PHONE or EMAIL key (PIX.md § Keys:
// ownership is proven before registering). Production plugs in an SMS or e-mail provider behind
// ConfirmationSender; dev and tests use LogSender, which logs the target masked and keeps the last codes
// in memory so a test (or a developer at a console) can read them from the instance, never from logs.
import type { Logger } from '../../../shared/telemetry.ts';
import { mask } from '../../../shared/telemetry.ts';
import { fail, ok, type Result } from '../../../shared/result.ts';

export type ConfirmableKeyType = 'PHONE' | 'EMAIL';

export interface ConfirmationMessage {
  keyType: ConfirmableKeyType;
  key: string;
  code: string;
  expiresAt: Date;
}

export interface ConfirmationSender {
  readonly name: string;
  /** Delivers the code; a failure is a value (the provider is down), answered 503 by the route. */
  send(message: ConfirmationMessage): Promise<Result<void>>;
}

/** LogSender keeps this many recent codes; older ones are dropped (dev only, bounded memory). */
export const LOG_SENDER_CODES_MAX = 1_000;

export class LogSender implements ConfirmationSender {
  readonly name = 'log';
  readonly #codes = new Map<string, ConfirmationMessage>();
  constructor(private readonly logger: Logger) {}

  async send(message: ConfirmationMessage): Promise<Result<void>> {
    const id = `${message.keyType}:${message.key}`;
    this.#codes.delete(id);
    this.#codes.set(id, message);
    if (this.#codes.size > LOG_SENDER_CODES_MAX) this.#codes.delete(this.#codes.keys().next().value as string);
    // the target is masked; the code is logged on purpose: in dev the log IS the delivery channel
    this.logger.info({ keyType: message.keyType, target: mask(message.key), code: message.code, expiresAt: message.expiresAt.toISOString() }, 'confirmation code (dev log sender)');
    return ok(undefined);
  }

  /** The last code sent to this key, for tests and local development. */
  lastCode(keyType: ConfirmableKeyType, key: string): string | undefined {
    return this.#codes.get(`${keyType}:${key}`)?.code;
  }
}

/** A sender that always fails: what a provider outage looks like to the service. */
export class UnavailableSender implements ConfirmationSender {
  readonly name = 'unavailable';
  async send(): Promise<Result<void>> {
    return fail('ServiceUnavailable', 'the confirmation provider is unavailable');
  }
}
