// A bounded least-recently-used map (groupcache's lru.Cache, which client-go's
// event caches use): a get or set makes the key the newest; past `max` the
// oldest goes.
export class Lru<V> {
  private readonly m = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const v = this.m.get(key);
    if (v === undefined) return undefined;
    this.m.delete(key);
    this.m.set(key, v);
    return v;
  }

  set(key: string, v: V): void {
    this.m.delete(key);
    this.m.set(key, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as string);
  }

  delete(key: string): void {
    this.m.delete(key);
  }

  get size(): number {
    return this.m.size;
  }
}
