/**
 * @file One Server-Sent Events client with a bounded queue, so a slow or stalled tab never
 * slows training or grows memory without bound.
 *
 * Messages go straight to the socket while it keeps up. Once the socket pushes back
 * (`write` returns false) they wait in a queue until 'drain':
 *   - a keyed message (progress, the inspection) replaces the waiting one with its key:
 *     only the latest counts;
 *   - if the queue would pass `limitBytes`, it is dropped whole and the client is marked
 *     for a resync: when the socket drains it gets one fresh snapshot instead.
 * So a client holds at most `limitBytes` queued plus the one message the socket accepted.
 */
import type { Writable } from 'node:stream';

interface Queued {
  readonly key: string | undefined;
  readonly text: string;
}

export interface ClientStats {
  readonly queuedBytes: number;
  readonly queuedMessages: number;
  /** bytes the socket holds that the peer has not read yet */
  readonly socketBytes: number;
  /** times the queue was dropped for a snapshot */
  readonly resyncs: number;
}

/** Formats one SSE message (the data never holds a newline: it is JSON). */
export function sseMessage(json: string): string {
  return `data: ${json}\n\n`;
}

export class SseClient {
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private blocked = false;
  private needsSnapshot = false;
  private resyncs = 0;
  private closed = false;

  /**
   * @param out the response stream, headers already sent
   * @param snapshot builds the full state as one SSE message, for a resync
   */
  constructor(
    private readonly out: Writable,
    private readonly limitBytes: number,
    private readonly snapshot: () => string,
  ) {
    out.on('drain', () => this.flush());
    out.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends, queues, replaces (same key) or drops a message; never blocks. */
  send(text: string, key?: string): void {
    if (this.closed || this.needsSnapshot) return; // a pending snapshot will carry this state
    if (!this.blocked) {
      this.write(text);
      return;
    }
    if (key !== undefined) {
      const i = this.queue.findIndex((q) => q.key === key);
      if (i >= 0) {
        this.queuedBytes -= this.queue[i]!.text.length;
        this.queue.splice(i, 1); // re-queued at the end: it must come after the appends it sums up
      }
    }
    if (this.queuedBytes + text.length > this.limitBytes) {
      this.queue = [];
      this.queuedBytes = 0;
      this.needsSnapshot = true;
      this.resyncs++;
      return;
    }
    this.queue.push({ key, text });
    this.queuedBytes += text.length;
  }

  stats(): ClientStats {
    return { queuedBytes: this.queuedBytes, queuedMessages: this.queue.length, socketBytes: this.out.writableLength, resyncs: this.resyncs };
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
  }

  private write(text: string): void {
    if (!this.out.write(text)) this.blocked = true;
  }

  private flush(): void {
    if (this.closed) return;
    this.blocked = false;
    if (this.needsSnapshot) {
      this.needsSnapshot = false;
      this.write(this.snapshot());
    }
    while (!this.blocked && this.queue.length > 0) {
      const q = this.queue.shift()!;
      this.queuedBytes -= q.text.length;
      this.write(q.text);
    }
  }
}
