/**
 * A button's work, one at a time: what is being done (`busy`), what came of it (`done`) or what
 * went wrong (`error`), for the view to show. `after` runs whatever the outcome.
 */
export class Action {
  busy = $state('');
  done = $state('');
  error = $state('');

  constructor(private readonly after: () => void = () => {}) {}

  async run(what: string, work: () => Promise<string>): Promise<void> {
    this.busy = what;
    this.done = '';
    this.error = '';
    try {
      this.done = await work();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = '';
      this.after();
    }
  }

  /** An outcome that is not the work's: a cancel, or input refused before any work. */
  report(outcome: { done: string } | { error: string }): void {
    this.done = 'done' in outcome ? outcome.done : '';
    this.error = 'error' in outcome ? outcome.error : '';
  }
}
