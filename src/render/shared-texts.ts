/**
 * The text of objects many rules share, spelled once per render. Compilers and the parser intern such objects
 * (one frozen `-m comment`, `-p tcp`, `-j KUBE-MARK-MASQ`, `meta l4proto tcp`); an object that is not frozen
 * belongs to one rule or two and is spelled each time (a cache entry would cost more than it saves).
 */
export class SharedTexts {
  private readonly texts = new Map<object, string>();

  of<T extends object>(item: T, spell: (item: T) => string): string {
    if (!Object.isFrozen(item)) return spell(item);
    let text = this.texts.get(item);
    if (text === undefined) this.texts.set(item, (text = spell(item)));
    return text;
  }
}
