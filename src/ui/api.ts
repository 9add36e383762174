import { getContext, setContext } from 'svelte';
import type { Remote } from 'comlink';
import type { Api } from '../worker/protocol.ts';

const KEY = Symbol('lakehouse api');

/** The worker's api, handed down from App to every view. */
export function provideApi(api: Remote<Api>): void {
  setContext(KEY, api);
}

export function useApi(): Remote<Api> {
  const api = getContext<Remote<Api> | undefined>(KEY);
  if (!api) throw new Error('useApi: no api in context (App provides it)');
  return api;
}

/** An error's message without the worker's "what it was doing:" prefix when the view says it already. */
export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
