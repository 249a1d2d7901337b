/**
 * Every diagnostic code the iptables text parser emits, one line each. Codes are stable: tests and users match
 * on them, so add new ones rather than changing the meaning of an existing one.
 */
export const IPT_CODES = {
  E_IPT_SYNTAX: 'a line iptables-restore would refuse: unknown command, malformed chain line, bad rule words or option values',
  E_IPT_QUOTE: 'an unterminated quote in a rule line',
  E_IPT_NO_TABLE: 'a chain, rule or COMMIT line outside a `*table` ... COMMIT block',
  E_IPT_NO_COMMIT: 'a `*table` block that is not closed by COMMIT (before the next table or the end)',
  E_IPT_UNKNOWN_TABLE: 'a table name iptables does not have (filter, nat, mangle, raw, security)',
  E_IPT_UNKNOWN_CHAIN: 'a rule or -X for a chain that was neither declared nor is built in',
  E_IPT_DELETED_CHAIN: 'a rule for a chain after its `-X` line',
  E_IPT_BUILTIN_CHAIN: 'an attempt to delete or re-create a built-in chain',
  W_IPT_DUPLICATE_CHAIN: 'a chain declared twice in one table (iptables-restore just flushes it again)',
} as const;

export type IptCode = keyof typeof IPT_CODES;
