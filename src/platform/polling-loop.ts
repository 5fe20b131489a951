/**
 * A background job that runs `work` every `pollMs`, at once when poked, never two at a time
 * (a poke during a run schedules one more right after), and stops cleanly: `stop()` waits for
 * the run in progress. Failures are logged and the loop goes on.
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<unknown>,
    private readonly pollMs: number,
    private readonly label: string,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.pollMs);
  }

  poke(): void {
    if (!this.stopped) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.busy) {
        void this.busy.then(() => this.schedule(50));
        return;
      }
      this.busy = this.work()
        .then(() => undefined)
        .catch((e) => console.error(`[${this.label}]`, (e as Error).message))
        .finally(() => {
          this.busy = undefined;
          if (!this.stopped) this.schedule(this.pollMs);
        });
    }, ms);
    this.timer.unref?.();
  }
}
