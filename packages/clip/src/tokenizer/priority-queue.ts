/** A binary heap that pops the item `comesFirst` ranks first. */
export class PriorityQueue<T> {
  private readonly items: T[] = [];

  constructor(private readonly comesFirst: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let child = items.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.comesFirst(items[child]!, items[parent]!)) break;
      [items[child], items[parent]] = [items[parent]!, items[child]!];
      child = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let parent = 0;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let first = parent;
      if (left < items.length && this.comesFirst(items[left]!, items[first]!)) first = left;
      if (right < items.length && this.comesFirst(items[right]!, items[first]!)) first = right;
      if (first === parent) return top;
      [items[first], items[parent]] = [items[parent]!, items[first]!];
      parent = first;
    }
  }
}
