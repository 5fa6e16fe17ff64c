import { describe, expect, it, vi } from 'vitest';
import { subscribeAll } from './subscriptions';

describe('subscribeAll', () => {
  it('unlistens everything that registered before dispose', async () => {
    const a = vi.fn();
    const b = vi.fn();
    const subs = subscribeAll([Promise.resolve(a), Promise.resolve(b)]);
    await subs.ready;
    subs.dispose();
    expect(a).toHaveBeenCalledOnce();
    expect(b).toHaveBeenCalledOnce();
  });

  it('undoes a registration that completes after dispose', async () => {
    const late = vi.fn();
    let resolve: (fn: () => void) => void = () => {};
    const subs = subscribeAll([new Promise((r) => (resolve = r))]);
    subs.dispose();
    expect(late).not.toHaveBeenCalled();
    resolve(late);
    await subs.ready;
    expect(late).toHaveBeenCalledOnce();
  });

  it('becomes ready even when a registration fails', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const ok = vi.fn();
    const subs = subscribeAll([Promise.reject(new Error('no tauri')), Promise.resolve(ok)]);
    await expect(subs.ready).resolves.toBeUndefined();
    expect(error).toHaveBeenCalled();
    subs.dispose();
    expect(ok).toHaveBeenCalledOnce();
    error.mockRestore();
  });
});
