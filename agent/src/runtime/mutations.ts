// Which pods' runtime objects the agent changed, for the pod sync: a sync that
// changed nothing of its own pod reuses the state it read instead of reading
// it again, even while other pods' syncs change theirs (a burst of starts).
// Objects are told apart by the ids the runtime returned or listed for a pod;
// a change to an id of no known pod counts as a change to every pod.

export class MutationStamps {
  private seq = 0;
  /** Highest stamp of an unknown id's change, or of a pod's entry dropped since. */
  private floor = 0;
  private readonly podAt = new Map<string, number>();
  private readonly owner = new Map<string, string>();

  /** Sandbox or container `id` belongs to pod `uid`. */
  own(id: string, uid: string): void {
    if (id && uid) this.owner.set(id, uid);
  }

  /** A mutating call on pod `uid`'s objects. */
  pod(uid: string): void {
    this.podAt.set(uid, ++this.seq);
  }

  /** A mutating call on sandbox or container `id`. */
  object(id: string): void {
    const uid = this.owner.get(id);
    if (uid) this.pod(uid);
    else this.floor = ++this.seq;
  }

  /**
   * Changes whenever a mutating call may have changed pod `uid`'s objects
   * (any pod's without `uid`). Never repeats an earlier value after a change,
   * also across prune(): a dropped entry raises the floor past its stamp.
   */
  stamp(uid?: string): number {
    return uid === undefined ? this.seq : Math.max(this.podAt.get(uid) ?? 0, this.floor);
  }

  /** Forgets ids and pods the runtime no longer holds (after a complete list). */
  prune(ids: ReadonlySet<string>, uids: ReadonlySet<string>): void {
    for (const id of this.owner.keys()) if (!ids.has(id)) this.owner.delete(id);
    for (const [uid, at] of this.podAt) {
      if (uids.has(uid)) continue;
      this.podAt.delete(uid);
      this.floor = Math.max(this.floor, at);
    }
  }
}
