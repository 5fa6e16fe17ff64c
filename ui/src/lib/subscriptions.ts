import type { UnlistenFn } from '@tauri-apps/api/event';

/**
 * Ties async `listen()` registrations to a synchronous teardown, as Svelte's
 * destroy hooks need. A registration that resolves after teardown is undone
 * immediately instead of leaking a listener into the next mount.
 *
 * `ready` settles once every registration has either succeeded or failed; a
 * failed one is logged, not fatal, so the rest of the UI still works.
 */
export function subscribeAll(pending: Promise<UnlistenFn>[]): {
  ready: Promise<void>;
  dispose: () => void;
} {
  let disposed = false;
  const active: UnlistenFn[] = [];

  const keep = (unlisten: UnlistenFn) => {
    if (disposed) release(unlisten);
    else active.push(unlisten);
  };
  const report = (err: unknown) => console.error('Streamdrop: event subscription failed', err);

  const ready = Promise.all(pending.map((p) => p.then(keep, report))).then(() => undefined);

  return {
    ready,
    dispose() {
      disposed = true;
      for (const unlisten of active.splice(0)) release(unlisten);
    },
  };
}

function release(unlisten: UnlistenFn): void {
  // Unlisten is async at runtime despite its type; a failure while the
  // webview is going away is not actionable.
  Promise.resolve(unlisten() as unknown).catch(() => {});
}
