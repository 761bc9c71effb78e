// What the DICT service needs beyond the common service deps: the DICT API (signed XML over mTLS) and
// the channel that delivers confirmation codes.
import type { ServiceDeps } from '../../shared/service.ts';
import type { ConfirmationSender } from './confirmations/sender.ts';
import type { DictApi } from './dictapi/types.ts';

export interface DictDeps extends ServiceDeps {
  dict: DictApi;
  sender: ConfirmationSender;
}

/** Who did it, for audit_log.actor: the operator or portal user the gateway forwarded, else the service. */
export interface Actor {
  actor: string;
  traceId?: string | undefined;
}
