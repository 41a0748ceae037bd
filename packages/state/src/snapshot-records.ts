/**
 * The encoded bytes of a state's records, remembered between snapshots (docs/SCALE.md, "State
 * snapshot"): a client folds its events into a snapshot every ~1,300 events or more, and the
 * snapshot holds every post (~370 B each with a 256-character text) and every join request
 * (~100–150 B: one per member in an organization on request); re-encoding the ones that did not
 * change is a copy of the bytes the last snapshot (written or read) holds for them.
 *
 * A record's entry bytes (its map key, then its fields) are a function of the record alone: the key
 * is checked to be the record's id before they are used, and records are immutable values (the
 * reducer makes a new object for every change: an edit, a deletion, a pin, a ban's deletion, a
 * request's decision; none is mutated in place). So the bytes remembered for a record object are
 * the bytes an encoding of it writes, whatever state holds it. Bytes a decode read are remembered
 * only when they are the ones an encoding writes (canonical varints and strings).
 *
 * Memory: the bytes are views into one buffer per snapshot (the writer's own, never handed out, or
 * a copy of the sections a decode read: a caller may reuse its input); no copy per record, and one
 * small place object per record. A buffer
 * is dropped as soon as a later snapshot re-used bytes from it (it is superseded), so a state keeps
 * at most the buffer of its last snapshot alive, whatever records it still holds that the snapshot
 * left out (history retention prunes the snapshot, not the state in memory); a state dropped takes
 * its buffer with it (the remembered places are weak, keyed by the records).
 *
 * @module
 */
import type { SnapshotWriter } from "./snapshot-codec.js";

/** A snapshot's bytes while records point into it; `undefined` once superseded. */
interface Holder {
  bytes: Uint8Array | undefined;
}

/** Where a record's entry bytes are: `holder.bytes[start, end)`. */
interface Place {
  holder: Holder;
  start: number;
  end: number;
}

/** Per record object, where its bytes are (weak: a record dropped drops its entry). */
const places = new WeakMap<object, Place>();

/**
 * The records of one encoding or decoding: where each entry's bytes were written or read, handed
 * to the records' places once the snapshot is whole ({@link commit}): a snapshot that throws
 * midway changes no place. Entries re-used from consecutive places of one buffer (posts in the
 * same order as last time) are copied as one run.
 */
export class RecordPlaces {
  readonly #records: object[] = [];
  /** The place each record had ({@link reuse}), `undefined` for one written anew or read. */
  readonly #places: Array<Place | undefined> = [];
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  /** The buffers bytes were re-used from (superseded at {@link commit}). */
  readonly #sources = new Set<Holder>();
  /** The run of re-used bytes not copied yet: `#run[#runStart, #runEnd)`. */
  #run: Uint8Array | undefined;
  #runStart = 0;
  #runEnd = 0;

  /**
   * Writes (or queues, until {@link flush}) the bytes remembered for `record`, if any, and notes
   * where they go.
   * @param record - a record of the state being encoded, its key checked to be its id
   * @param w - the writer
   * @returns whether they were re-used (false: never written nor read, or superseded since)
   */
  reuse(record: object, w: SnapshotWriter): boolean {
    const place = places.get(record);
    const bytes = place?.holder.bytes;
    if (place === undefined || bytes === undefined) return false;
    if (bytes !== this.#run || place.start !== this.#runEnd) {
      this.flush(w);
      this.#sources.add(place.holder);
      this.#run = bytes;
      this.#runStart = place.start;
      this.#runEnd = place.start;
    }
    const at = w.position + (this.#runEnd - this.#runStart);
    this.#runEnd = place.end;
    this.#push(record, at, at + place.end - place.start, place);
    return true;
  }

  /**
   * Copies the queued run of re-used bytes (before anything else is written, and at the end).
   * @param w - the writer
   * @returns the writer's position after it
   */
  flush(w: SnapshotWriter): number {
    if (this.#run !== undefined) {
      w.copy(this.#run, this.#runStart, this.#runEnd);
      this.#run = undefined;
    }
    return w.position;
  }

  /**
   * Notes that `record`'s entry is at `[start, end)` of the snapshot being written or read.
   * @param record - the record
   * @param start - where its entry (its key) starts
   * @param end - where it ends
   */
  note(record: object, start: number, end: number): void {
    this.#push(record, start, end, undefined);
  }

  #push(record: object, start: number, end: number, place: Place | undefined): void {
    this.#records.push(record);
    this.#places.push(place);
    this.#starts.push(start);
    this.#ends.push(end);
  }

  /**
   * Points every noted record at `bytes` (offsets as noted, less `offset`), and drops the buffers
   * bytes were re-used from.
   * @param bytes - the buffer the noted offsets are in (the caller never writes it again)
   * @param offset - where in the noted offsets `bytes` starts
   * @returns a function that notes a record read from `bytes` later (a request read at first
   *   use: `snapshot-requests.ts`), at its offsets as noted; nothing once `bytes` is superseded
   */
  commit(bytes: Uint8Array, offset = 0): (record: object, start: number, end: number) => void {
    const holder: Holder = { bytes };
    const records = this.#records;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as object;
      const start = (this.#starts[i] as number) - offset;
      const end = (this.#ends[i] as number) - offset;
      const place = this.#places[i];
      if (place === undefined) {
        // Written anew or read: a new place (one lookup, whatever it had).
        places.set(record, { holder, start, end });
      } else {
        place.holder = holder;
        place.start = start;
        place.end = end;
      }
    }
    for (const source of this.#sources) source.bytes = undefined;
    return (record, start, end) => {
      if (holder.bytes !== undefined)
        places.set(record, { holder, start: start - offset, end: end - offset });
    };
  }
}
