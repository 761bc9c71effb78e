// The fault rules currently set through the control API. Bounded: a rule per route prefix is plenty.
import type { FaultRule } from './fault.ts';

export const FAULT_RULES_MAX = 64;

export interface FaultStore {
  /** Adds a rule, replacing one with the same prefix. Null when the store is full. */
  set(rule: Omit<FaultRule, 'id'>): FaultRule | null;
  remove(id: string): boolean;
  clear(): void;
  list(): readonly FaultRule[];
}

export function createFaultStore(): FaultStore {
  let rules: FaultRule[] = [];
  let counter = 0;
  return {
    set(rule) {
      const others = rules.filter((r) => r.prefix !== rule.prefix);
      if (others.length >= FAULT_RULES_MAX) return null;
      const stored = { id: `fault-${++counter}`, ...rule };
      rules = [...others, stored]; // a new array: a request in progress keeps the list it started with
      return stored;
    },
    remove(id) {
      const before = rules.length;
      rules = rules.filter((r) => r.id !== id);
      return rules.length < before;
    },
    clear() {
      rules = [];
    },
    list: () => rules,
  };
}
