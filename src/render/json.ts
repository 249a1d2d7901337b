/** The ruleset IR as JSON (`--format json`): the data itself, counters as decimal strings. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item), 2)}\n`;
}
