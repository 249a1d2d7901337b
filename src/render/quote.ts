/**
 * String quoting of iptables-save (xtables_save_string): bare when the value is non-empty and only
 * `[A-Za-z0-9_-]`, otherwise double-quoted with `"`, `\` and `'` backslash-escaped. So `ns1/svc1:p80` is
 * printed `"ns1/svc1:p80"`.
 */
export function saveString(value: string): string {
  if (value.length > 0 && /^[A-Za-z0-9_-]+$/.test(value)) return value;
  return `"${value.replace(/["\\']/g, '\\$&')}"`;
}

/** A value iptables-save prints with `%s`: bare, unless our tokenizer could not read it back. */
export function rawValue(value: string): string {
  return value.length > 0 && !/[\s"']/.test(value) ? value : saveString(value);
}
