// Accounts of the built-in ledger: open an account, block/unblock it, deposit (cash-in), read its
// balance. The balance read is the in-memory position (the hot path); Postgres is the record.
import { Elysia, t } from 'elysia';
import { HttpProblem } from '../../../shared/errors.ts';
import { formatSignedAmount, parseAmount } from '../../../shared/money.ts';
import type { Sql } from 'postgres';
import { availableOf, positionOfRow, type Positions } from '../positions/positions.ts';
import { transfer } from '../positions/posting.ts';
import { writeOrThrow, type SpiStore } from '../pipeline/store.ts';

const Branch = t.String({ pattern: '^[0-9]{4}$' });
const Num = t.String({ pattern: '^[0-9]{1,20}$' });
const Amount = t.String({ pattern: '^[0-9]+\\.[0-9]{2}$', maxLength: 21 });

export function accountRoutes(deps: { sql: Sql<{ bigint: bigint }>; positions: Positions; store: SpiStore }) {
  const { sql, positions, store } = deps;
  const find = (branch: string, number: string) => {
    const p = positions.get(branch, number);
    if (!p || p.kind !== 'CUSTOMER') throw HttpProblem.of('NotFound', `account ${branch}/${number} does not exist`);
    return p;
  };
  const balanceOf = (branch: string, number: string) => {
    const p = find(branch, number);
    return {
      branch, number, status: p.status, holderName: p.holderName,
      balance: formatSignedAmount(p.balanceCentavos), reserved: formatSignedAmount(p.reservedCentavos),
      available: formatSignedAmount(availableOf(p)), overdraftLimit: formatSignedAmount(p.overdraftCentavos),
    };
  };
  const amountOf = (wire: string, field: string) => {
    const r = parseAmount(wire, field);
    if (!r.ok) throw HttpProblem.fromDomain(r.error);
    return r.value;
  };

  return new Elysia({ prefix: '/accounts', detail: { tags: ['accounts'] } })
    .post('', async ({ body, set }) => {
      // both amounts are read before the insert: a refused one must leave no account behind
      const overdraft = body.overdraft === undefined ? 0n : amountOf(body.overdraft, 'overdraft');
      const initialDeposit = body.initialDeposit === undefined ? undefined : amountOf(body.initialDeposit, 'initialDeposit');
      const rows = await sql`
        insert into ledger_accounts (kind, branch, number, account_type, holder_tax_id, holder_name, overdraft_centavos)
        values ('CUSTOMER', ${body.branch}, ${body.number}, ${body.accountType}, ${body.holderTaxId}, ${body.holderName}, ${overdraft})
        on conflict (branch, number) do nothing
        returning id, kind, code, branch, number, account_type, holder_tax_id, holder_name, status, overdraft_centavos, balance_centavos`;
      if (rows.length === 0) throw HttpProblem.of('Conflict', `account ${body.branch}/${body.number} already exists`);
      positions.upsert(positionOfRow(rows[0] as any));
      if (initialDeposit !== undefined) {
        const posting = transfer('DEPOSIT', `open-${body.branch}-${body.number}`, positions.system('FUNDING').id, rows[0]!.id as bigint, initialDeposit);
        const r = await writeOrThrow(store, { kind: 'posting', posting });
        if (r.posted) positions.applyPosting(posting);
      }
      set.status = 201;
      return balanceOf(body.branch, body.number);
    }, {
      body: t.Object({
        branch: Branch, number: Num,
        accountType: t.Union([t.Literal('CACC'), t.Literal('SVGS'), t.Literal('SLRY'), t.Literal('TRAN')]),
        holderTaxId: t.String({ pattern: '^([0-9]{11}|[0-9A-Z]{12}[0-9]{2})$' }),
        holderName: t.String({ minLength: 1, maxLength: 140 }),
        overdraft: t.Optional(Amount),
        initialDeposit: t.Optional(Amount),
      }),
      detail: { summary: 'Open an account in the built-in ledger' },
    })
    .get('/:branch/:number/balance', ({ params }) => balanceOf(params.branch, params.number), {
      params: t.Object({ branch: Branch, number: Num }),
      detail: { summary: 'Balance, reserved and available amounts (in-memory position)' },
    })
    .patch('/:branch/:number', async ({ params, body }) => {
      const p = find(params.branch, params.number);
      const rows = await sql`update ledger_accounts set status = ${body.status}, updated_at = now() where id = ${p.id}
        returning id, kind, code, branch, number, account_type, holder_tax_id, holder_name, status, overdraft_centavos, balance_centavos`;
      positions.upsert(positionOfRow(rows[0] as any));
      return balanceOf(params.branch, params.number);
    }, {
      params: t.Object({ branch: Branch, number: Num }),
      body: t.Object({ status: t.Union([t.Literal('ACTIVE'), t.Literal('BLOCKED'), t.Literal('CLOSED')]) }),
      detail: { summary: 'Block, unblock or close an account' },
    })
    .post('/:branch/:number/deposits', async ({ params, body }) => {
      const p = find(params.branch, params.number);
      const posting = transfer('DEPOSIT', body.depositId, positions.system('FUNDING').id, p.id, amountOf(body.amount, 'amount'));
      const r = await writeOrThrow(store, { kind: 'posting', posting });
      if (r.posted) positions.applyPosting(posting);
      return { ...balanceOf(params.branch, params.number), applied: r.posted };
    }, {
      params: t.Object({ branch: Branch, number: Num }),
      body: t.Object({ amount: Amount, depositId: t.String({ pattern: '^[A-Za-z0-9-]{1,60}$' }) }),
      detail: { summary: 'Cash-in (idempotent on depositId)' },
    });
}
