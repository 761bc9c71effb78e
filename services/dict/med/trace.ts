// MED 2.0 tracing (PIX.md § Fraud): from a reported payment, follow the money through our accounts. The
// credited account's outgoing payments after the credit take the funds first-in first-out until the
// reported amount is accounted for; a payment to another of our accounts is a further hop, a payment to
// another PSP is where the funds left us (that PSP continues the trace). Bounded in hops and edges.
import type { Sql } from 'postgres';

/** Hops followed from the reported payment (MED 2.0 follows several; five covers layering seen in fraud). */
export const TRACE_HOPS_MAX = 5;
/** Payments considered per trace; past this the trace is cut and marked `truncated`. */
export const TRACE_EDGES_MAX = 500;
/** Outgoing payments considered per account: those within this time after the funds arrived. */
export const TRACE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

export interface TxRow {
  end_to_end_id: string;
  amount_centavos: bigint;
  debtor_ispb: string;
  debtor_branch: string | null;
  debtor_account: string;
  creditor_ispb: string;
  creditor_branch: string | null;
  creditor_account: string;
  created_at: Date;
}

export interface TraceNode {
  id: string;
  ispb: string;
  branch: string | null;
  account: string;
  ours: boolean;
  hop: number;
  /** funds of the reported payment that reached this account */
  receivedCentavos: bigint;
}

export interface TraceEdge {
  endToEndId: string;
  from: string;
  to: string;
  hop: number;
  amountCentavos: bigint;
  /** the part of this payment attributed to the reported funds */
  tracedCentavos: bigint;
  at: Date;
}

export interface TraceGraph {
  root: string;
  nodes: TraceNode[];
  edges: TraceEdge[];
  truncated: boolean;
}

const nodeId = (ispb: string, branch: string | null, account: string) => `${ispb}/${branch ?? ''}/${account}`;

/** Splits `funds` over `outgoing` in time order (first in, first out): what each payment carried. */
export function attribute(funds: bigint, outgoing: readonly TxRow[]): { tx: TxRow; traced: bigint }[] {
  const out: { tx: TxRow; traced: bigint }[] = [];
  let left = funds;
  for (const tx of [...outgoing].sort((a, b) => a.created_at.getTime() - b.created_at.getTime())) {
    if (left <= 0n) break;
    const traced = tx.amount_centavos < left ? tx.amount_centavos : left;
    out.push({ tx, traced });
    left -= traced;
  }
  return out;
}

export async function traceFunds(sql: Sql<{ bigint: bigint }>, ourIspb: string, endToEndId: string): Promise<TraceGraph | undefined> {
  const [start] = await sql<TxRow[]>`select * from transactions where end_to_end_id = ${endToEndId} order by created_at limit 1`;
  if (!start) return undefined;
  const nodes = new Map<string, TraceNode>();
  const edges: TraceEdge[] = [];
  let truncated = false;
  const node = (ispb: string, branch: string | null, account: string, hop: number, received: bigint) => {
    const id = nodeId(ispb, branch, account);
    const n = nodes.get(id);
    if (n) n.receivedCentavos += received;
    else nodes.set(id, { id, ispb, branch, account, ours: ispb === ourIspb, hop, receivedCentavos: received });
    return id;
  };
  const from = node(start.debtor_ispb, start.debtor_branch, start.debtor_account, 0, 0n);
  const root = node(start.creditor_ispb, start.creditor_branch, start.creditor_account, 1, start.amount_centavos);
  edges.push({ endToEndId: start.end_to_end_id, from, to: root, hop: 1, amountCentavos: start.amount_centavos, tracedCentavos: start.amount_centavos, at: start.created_at });

  let frontier: { ispb: string; branch: string | null; account: string; funds: bigint; since: Date }[] =
    start.creditor_ispb === ourIspb ? [{ ispb: start.creditor_ispb, branch: start.creditor_branch, account: start.creditor_account, funds: start.amount_centavos, since: start.created_at }] : [];
  for (let hop = 2; hop <= TRACE_HOPS_MAX + 1 && frontier.length > 0; hop++) {
    const next: typeof frontier = [];
    for (const f of frontier) {
      const until = new Date(f.since.getTime() + TRACE_WINDOW_MS);
      const outgoing = await sql<TxRow[]>`select * from transactions where debtor_ispb = ${f.ispb} and debtor_account = ${f.account}
        and debtor_branch is not distinct from ${f.branch} and direction = 'OUTBOUND' and status not in ('REJECTED', 'CREATED')
        and created_at > ${f.since} and created_at <= ${until} order by created_at limit ${TRACE_EDGES_MAX}`;
      for (const { tx, traced } of attribute(f.funds, outgoing)) {
        if (edges.length >= TRACE_EDGES_MAX) {
          truncated = true;
          break;
        }
        const src = nodeId(f.ispb, f.branch, f.account);
        const dst = node(tx.creditor_ispb, tx.creditor_branch, tx.creditor_account, hop, traced);
        edges.push({ endToEndId: tx.end_to_end_id, from: src, to: dst, hop, amountCentavos: tx.amount_centavos, tracedCentavos: traced, at: tx.created_at });
        if (tx.creditor_ispb === ourIspb) next.push({ ispb: tx.creditor_ispb, branch: tx.creditor_branch, account: tx.creditor_account, funds: traced, since: tx.created_at });
      }
    }
    if (hop === TRACE_HOPS_MAX + 1 && next.length > 0) truncated = true;
    frontier = next;
  }
  return { root, nodes: [...nodes.values()], edges, truncated };
}
