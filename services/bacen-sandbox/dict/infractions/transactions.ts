// The settled payment an infraction report or refund names: registered through the control API
// (POST /dict/transactions) or settled by the sandbox's SPI (spi_payments).
import type { Sql } from 'postgres';

export interface SettledPayment {
  endToEndId: string;
  debited: string;
  credited: string;
  amountCentavos: bigint;
  settledAt: Date;
}

export async function findSettledPayment(sql: Sql<{ bigint: bigint }>, endToEndId: string): Promise<SettledPayment | undefined> {
  const [row] = await sql<{ debited: string; credited: string; amount_centavos: bigint; settled_at: Date }[]>`
    select debited, credited, amount_centavos, settled_at from dict_transactions where end_to_end_id = ${endToEndId}`;
  if (row) return { endToEndId, debited: row.debited, credited: row.credited, amountCentavos: row.amount_centavos, settledAt: row.settled_at };
  try {
    const [spi] = await sql<{ debtor_ispb: string; creditor_ispb: string; amount_centavos: bigint; decided_at: Date }[]>`
      select debtor_ispb, creditor_ispb, amount_centavos, decided_at from spi_payments where end_to_end_id = ${endToEndId} and status = 'SETTLED'`;
    return spi ? { endToEndId, debited: spi.debtor_ispb, credited: spi.creditor_ispb, amountCentavos: spi.amount_centavos, settledAt: spi.decided_at } : undefined;
  } catch (e) {
    if ((e as { code?: string }).code === '42P01') return undefined; // no SPI tables in this schema
    throw e;
  }
}
