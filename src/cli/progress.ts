import cliProgress from 'cli-progress';

/**
 * Progress of a long job: a live bar (count, rate, ETA) on a terminal; on anything else (logs, CI) a plain line every
 * 5%, so logs stay readable.
 */
export class Progress {
  private readonly bar: cliProgress.SingleBar | null;
  private started = false;
  private lastStep = -1;

  constructor(
    private readonly label: string,
    private readonly unit: string,
    stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.bar = stream.isTTY
      ? new cliProgress.SingleBar(
          { format: `${label} [{bar}] {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted} | {detail}`, stream, etaBuffer: 50 },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  private readonly startedAt = Date.now();

  update(done: number, total: number, detail: string): void {
    const rate = (done / Math.max(0.001, (Date.now() - this.startedAt) / 1000)).toFixed(1);
    if (this.bar) {
      if (!this.started) this.bar.start(total, 0, { rate, detail });
      this.started = true;
      this.bar.update(done, { rate, detail });
      return;
    }
    const step = Math.floor((done / Math.max(1, total)) * 20);
    if (step !== this.lastStep || done === total) {
      this.lastStep = step;
      process.stderr.write(`${this.label}: ${done}/${total} ${this.unit} (${rate}/s) ${detail}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
