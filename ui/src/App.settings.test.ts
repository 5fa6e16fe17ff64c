// The settings view: connections listed, added with keys typed in, set up
// through the wizard (plan, apply with live steps, a refused step's policy
// statement), checked, switched and removed, all over IPC.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import App from './App.svelte';
import type {
  AddedConnection,
  AppStatus,
  ConnectionForm,
  ConnectionsView,
  ConnectionView,
  SetupProgress,
  SetupRequest,
  SetupView,
  StepReport,
} from './lib/ipc';
import { LOCAL_STATUS, deferred, fakeBackend, makeProblem, resetBackend, settle } from './test/fake-backend';

afterEach(() => resetBackend(cleanup));

const LOCAL: ConnectionView = {
  name: 'Local',
  kind: 'local',
  active: true,
  profile: null,
  region: null,
  endpointUrl: null,
  uploadBucket: null,
  mediaBucket: null,
  transcoder: null,
  mediaconvertRoleArn: null,
  distribution: null,
};

const PRODUCTION: ConnectionView = { ...LOCAL, name: 'Production', kind: 'keys', active: false, region: 'eu-west-1' };

const SET_UP: ConnectionView = {
  ...PRODUCTION,
  uploadBucket: 'streamdrop-production-uploads',
  mediaBucket: 'streamdrop-production-media',
  transcoder: 'mediaconvert',
  distribution: { id: 'E2EXAMPLE', domain: 'd111111abcdef8.cloudfront.net', keyPairId: 'K2EXAMPLE' },
};

const step = (name: string, action: StepReport['action'], applied: boolean): StepReport => ({
  step: name,
  action,
  resource: name === 'distribution' || name === 'deployment' ? 'cloudfront distribution' : 's3 bucket',
  name: `streamdrop-production-${name}`,
  details: [],
  applied,
});

const PLAN: SetupView = {
  connection: 'Production',
  applied: false,
  namePrefix: 'streamdrop-production',
  steps: [step('uploads', 'create', false), step('media', 'create', false), step('distribution', 'create', false)],
  stopped: null,
  domain: null,
};

const APPLIED: SetupView = {
  ...PLAN,
  applied: true,
  steps: [
    step('uploads', 'create', true),
    step('media', 'create', true),
    step('distribution', 'create', true),
    step('deployment', 'later', true),
  ],
  domain: 'd111111abcdef8.cloudfront.net',
};

const GRANT = JSON.stringify(
  { Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::123456789012:role/streamdrop-production-mediaconvert' },
  null,
  2,
);

const DENIED: SetupView = {
  ...APPLIED,
  steps: [step('uploads', 'create', true)],
  stopped: {
    step: 'mediaconvert-role',
    problem: makeProblem({
      code: 'setup-denied',
      message: 'AWS refused iam:PassRole while creating the transcoder role. Ask an administrator to add the statement below to your user, then apply again.',
      params: { doing: 'creating the transcoder role', action: 'iam:PassRole' },
      detail: 'AccessDenied: User arn:aws:iam::123456789012:user/editor is not authorized to perform: iam:PassRole',
    }),
    grant: GRANT,
  },
  domain: null,
};

/** A backend whose connection list changes as commands change it. */
function settingsBackend(overrides: Record<string, (args: unknown) => unknown> = {}) {
  let connections: ConnectionView[] = [LOCAL];
  const view = (): ConnectionsView => ({ active: connections.find((c) => c.active)!.name, connections });
  const backend = fakeBackend({
    list_connections: () => view(),
    add_connection: (args) => {
      const form = (args as { connection: ConnectionForm }).connection;
      connections = [...connections, { ...PRODUCTION, name: form.name }];
      return {
        connection: connections[1],
        accessKeyId: form.auth.kind === 'keys' ? form.auth.accessKeyId : null,
        keptIn: 'Secret Service',
      } satisfies AddedConnection;
    },
    plan_setup: () => PLAN,
    apply_setup: () => {
      connections = connections.map((c) => (c.name === 'Production' ? SET_UP : c));
      return APPLIED;
    },
    use_connection: (args) => {
      const name = (args as { name: string }).name;
      connections = connections.map((c) => ({ ...c, active: c.name === name }));
      return connections.find((c) => c.name === name);
    },
    ...overrides,
  });
  return {
    backend,
    setConnections: (next: ConnectionView[]) => {
      connections = next;
    },
  };
}

const argsOf = (backend: ReturnType<typeof fakeBackend>, cmd: string) =>
  backend.calls.filter((c) => c.cmd === cmd).map((c) => c.args);

async function openSettings(): Promise<HTMLElement> {
  await fireEvent.keyDown(window, { key: ',', ctrlKey: true });
  await settle();
  return screen.getByTestId('settings');
}

const type = (testid: string, value: string) => fireEvent.input(screen.getByTestId(testid), { target: { value } });

async function fillKeys() {
  await fireEvent.click(screen.getByTestId('connection-add-open'));
  await settle();
  await type('connection-name', 'Production');
  await type('access-key-id', 'AKIAIOSFODNN7EXAMPLE');
  await type('secret-access-key', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  await type('connection-region', 'eu-west-1');
}

describe('settings', () => {
  it('opens with Ctrl+, over an inert page, lists the connections, and Escape gives focus back', async () => {
    const { backend } = settingsBackend();
    render(App);
    await settle();
    const search = screen.getByRole('button', { name: 'Choose files…' });
    search.focus();

    const dialog = await openSettings();
    expect(dialog.getAttribute('role')).toBe('dialog');
    expect((document.querySelector('.app') as HTMLElement).inert).toBe(true);
    const rows = within(dialog).getAllByTestId('connection');
    expect(rows.map((r) => [r.dataset.name, r.dataset.active])).toEqual([['Local', 'true']]);
    expect(within(rows[0]).getByTestId('connection-summary').textContent).toBe('Storage, transcoding and links on this computer');
    // Local can be neither removed nor set up.
    expect(within(rows[0]).queryByTestId('connection-remove')).toBeNull();
    expect(within(dialog).getByTestId('settings-data-dir').textContent).toBe(LOCAL_STATUS.dataDir);
    expect(backend.commands()).toContain('list_connections');

    await fireEvent.keyDown(window, { key: 'Escape' });
    await settle();
    expect(screen.queryByTestId('settings')).toBeNull();
    expect(document.activeElement).toBe(search);
  });

  it('checks the form before sending, then sends the keys once and forgets the secret', async () => {
    const { backend } = settingsBackend();
    render(App);
    await settle();
    await openSettings();
    await fireEvent.click(screen.getByTestId('connection-add-open'));
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId('connection-name'));

    await fireEvent.click(screen.getByTestId('connection-add'));
    await settle();
    expect(screen.getByTestId('connection-form-problem').textContent).toBe('Give the connection a name, such as “Production”.');
    expect(document.activeElement).toBe(screen.getByTestId('connection-name'));
    await type('connection-name', 'Production');
    await type('access-key-id', 'AKIAIOSFODNN7EXAMPLE');
    await type('secret-access-key', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    await type('connection-region', 'eu-west1');
    await fireEvent.click(screen.getByTestId('connection-add'));
    await settle();
    expect(screen.getByTestId('connection-form-problem').textContent).toBe(
      'Use a region name such as us-east-1 or ap-northeast-1.',
    );
    expect(argsOf(backend, 'add_connection')).toEqual([]);

    await type('connection-region', 'eu-west-1');
    await fireEvent.click(screen.getByTestId('connection-add'));
    await settle();
    expect(argsOf(backend, 'add_connection')).toEqual([
      {
        connection: {
          name: 'Production',
          auth: { kind: 'keys', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
          region: 'eu-west-1',
          endpointUrl: '',
          makeActive: false,
        },
      },
    ]);
    // Setup comes next, with a prefix from the connection's name.
    const wizard = screen.getByTestId('setup-wizard');
    expect((within(wizard).getByTestId('setup-prefix') as HTMLInputElement).value).toBe('streamdrop-production');
    expect(within(wizard).getByTestId('setup-region').textContent).toBe('eu-west-1');
  });

  it('shows a refused add as a sentence with the detail behind Details', async () => {
    const { backend } = settingsBackend({
      add_connection: () =>
        Promise.reject(
          makeProblem({
            code: 'connection-exists',
            message: 'A connection named Production exists already. Choose another name.',
            remedy: 'none',
            detail: null,
          }),
        ),
    });
    render(App);
    await settle();
    await openSettings();
    await fillKeys();
    await fireEvent.click(screen.getByTestId('connection-add'));
    await settle();
    expect(screen.getByTestId('connection-add-error-message').textContent).toBe(
      'A connection named Production exists already. Choose another name.',
    );
    // The form keeps what was typed, so nothing is lost.
    expect((screen.getByTestId('connection-name') as HTMLInputElement).value).toBe('Production');
    expect(argsOf(backend, 'add_connection')).toHaveLength(1);
  });

  it('plans, applies with live steps, says CloudFront is deploying, and switches on "Use"', async () => {
    const applying = deferred<SetupView>();
    const { backend, setConnections } = settingsBackend({ apply_setup: () => applying.promise });
    render(App);
    await settle();
    await openSettings();
    await fillKeys();
    await fireEvent.click(screen.getByTestId('connection-add'));
    await settle();

    await fireEvent.change(screen.getByTestId('setup-transcoder'), { target: { value: 'local-ffmpeg' } });
    await fireEvent.click(screen.getByTestId('setup-plan'));
    await settle();
    expect(argsOf(backend, 'plan_setup')).toEqual([
      { request: { connection: 'Production', namePrefix: 'streamdrop-production', transcoder: 'local-ffmpeg' } satisfies SetupRequest },
    ]);
    expect(screen.getByTestId('setup-wizard').dataset.phase).toBe('planned');
    expect(screen.getAllByTestId('setup-step').map((s) => `${s.dataset.step}:${s.dataset.action}`)).toEqual([
      'uploads:create',
      'media:create',
      'distribution:create',
    ]);
    expect(screen.getByTestId('setup-plan-summary').textContent?.trim()).toBe(
      'Nothing has been changed yet. Apply to make these changes.',
    );

    await fireEvent.click(screen.getByTestId('setup-apply'));
    await settle();
    expect(screen.getByTestId('setup-wizard').dataset.phase).toBe('applying');
    expect(screen.queryAllByTestId('setup-step')).toHaveLength(0);
    // Each step shows as it finishes; another connection's steps do not.
    await emit('setup-step', { connection: 'Production', step: APPLIED.steps[0] } satisfies SetupProgress);
    await emit('setup-step', { connection: 'Staging', step: APPLIED.steps[1] } satisfies SetupProgress);
    await settle();
    const live = screen.getAllByTestId('setup-step');
    expect(live.map((s) => [s.dataset.step, s.dataset.applied])).toEqual([['uploads', 'true']]);
    expect(live[0].textContent).toContain('Created');

    setConnections([LOCAL, SET_UP]);
    applying.resolve(APPLIED);
    await settle();
    expect(screen.getAllByTestId('setup-step')).toHaveLength(4);
    const done = screen.getByTestId('setup-done');
    expect(done.textContent).toContain('Production is set up. Links are served from d111111abcdef8.cloudfront.net.');
    expect(done.textContent).toContain('CloudFront is still deploying it');

    await fireEvent.click(screen.getByTestId('setup-use'));
    await settle();
    expect(argsOf(backend, 'use_connection')).toEqual([{ name: 'Production' }]);
    const rows = screen.getAllByTestId('connection');
    expect(rows.map((r) => [r.dataset.name, r.dataset.active, r.dataset.setUp])).toEqual([
      ['Local', 'false', 'true'],
      ['Production', 'true', 'true'],
    ]);

    // The backend announces the switch: the status line names the new connection.
    await emit('app-ready', {
      ...LOCAL_STATUS,
      mode: 'aws',
      connection: 'Production',
      s3Endpoint: '',
      transcoder: 'mediaconvert',
    } satisfies AppStatus);
    await settle();
    expect(screen.getByTestId('app-status').textContent).toBe('AWS · Production');
  });

  it('names the refused action and the exact statement to add, and copies it', async () => {
    const { backend } = settingsBackend({ apply_setup: () => DENIED });
    render(App);
    await settle();
    await openSettings();
    await fillKeys();
    await fireEvent.click(screen.getByTestId('connection-add'));
    await settle();
    await fireEvent.click(screen.getByTestId('setup-plan'));
    await settle();
    await fireEvent.click(screen.getByTestId('setup-apply'));
    await settle();

    const stopped = screen.getByTestId('setup-stopped');
    expect(stopped.dataset.code).toBe('setup-denied');
    expect(within(stopped).getByTestId('setup-stopped-message').textContent).toContain('iam:PassRole');
    expect(JSON.parse(within(stopped).getByTestId('setup-grant').textContent ?? '')).toEqual({
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: 'arn:aws:iam::123456789012:role/streamdrop-production-mediaconvert',
    });
    // The raw refusal is behind Details, not in the sentence.
    expect(within(stopped).getByTestId('setup-stopped-message').textContent).not.toContain('AccessDenied');
    await fireEvent.click(within(stopped).getByTestId('setup-copy-grant'));
    await settle();
    expect(argsOf(backend, 'copy_text')).toEqual([{ text: GRANT }]);
    expect(within(stopped).getByTestId('setup-copy-grant').textContent).toBe('Copied');
    // Applying again continues where it stopped; the connection cannot be used yet.
    expect(screen.getByTestId('setup-apply').textContent).toBe('Apply again');
    expect(screen.queryByTestId('setup-use')).toBeNull();
  });

  it('checks a connection, listing missing permissions, and removes one only when confirmed', async () => {
    const removed: string[] = [];
    const { backend, setConnections } = settingsBackend({
      check_connection: () => ({
        connection: 'Production',
        account: '123456789012',
        arn: 'arn:aws:iam::123456789012:user/editor',
        permissions: { state: 'missing', missing: ['mediaconvert:CreateJob on *'] },
      }),
      remove_connection: (args) => {
        const name = (args as { name: string }).name;
        removed.push(name);
        setConnections([LOCAL]);
        return { name, keychainEntries: 1 };
      },
    });
    setConnections([LOCAL, SET_UP]);
    render(App);
    await settle();
    await openSettings();
    const row = () => screen.getAllByTestId('connection').find((r) => r.dataset.name === 'Production')!;

    await fireEvent.click(within(row()).getByTestId('connection-check'));
    await settle();
    expect(within(row()).getByTestId('connection-check-result').textContent).toContain(
      'Connected as arn:aws:iam::123456789012:user/editor (account 123456789012).',
    );
    expect(within(row()).getByTestId('connection-missing').textContent).toBe('mediaconvert:CreateJob on *');

    await fireEvent.click(within(row()).getByTestId('connection-remove'));
    await settle();
    expect(within(row()).getByTestId('connection-remove-confirm').textContent?.replace(/\s+/g, ' ')).toContain(
      'Its jobs and links stay listed',
    );
    // Escape takes the question back, not the whole dialog.
    await fireEvent.keyDown(window, { key: 'Escape' });
    await settle();
    expect(within(row()).queryByTestId('connection-remove-confirm')).toBeNull();
    expect(screen.getByTestId('settings')).toBeTruthy();
    expect(removed).toEqual([]);

    await fireEvent.click(within(row()).getByTestId('connection-remove'));
    await settle();
    await fireEvent.click(within(row()).getByTestId('connection-remove-yes'));
    await settle();
    expect(removed).toEqual(['Production']);
    expect(screen.getAllByTestId('connection').map((r) => r.dataset.name)).toEqual(['Local']);
    expect(backend.commands().filter((c) => c === 'list_connections').length).toBeGreaterThanOrEqual(2);
  });

  it('cannot switch to a connection that is not set up, and says why a switch failed', async () => {
    const { setConnections } = settingsBackend({
      use_connection: () =>
        Promise.reject(
          makeProblem({
            code: 'aws-unreachable',
            message: 'Production could not be reached. Check the network, then try again.',
            detail: 'dispatch failure: io error: Connection refused',
          }),
        ),
    });
    setConnections([LOCAL, PRODUCTION, { ...SET_UP, name: 'Staging' }]);
    render(App);
    await settle();
    await openSettings();
    const row = (name: string) => screen.getAllByTestId('connection').find((r) => r.dataset.name === name)!;
    expect((within(row('Production')).getByTestId('connection-use') as HTMLButtonElement).disabled).toBe(true);
    expect(within(row('Production')).getByTestId('connection-setup').textContent).toBe('Set up…');

    await fireEvent.click(within(row('Staging')).getByTestId('connection-use'));
    await settle();
    expect(within(row('Staging')).getByTestId('connection-error-message').textContent).toBe(
      'Production could not be reached. Check the network, then try again.',
    );
    expect(row('Staging').dataset.active).toBe('false');
  });

  it('reports a connection that failed to start after a switch in a notice', async () => {
    settingsBackend();
    render(App);
    await settle();
    await emit('app-ready', {
      ...LOCAL_STATUS,
      phase: 'failed',
      connection: 'Production',
      error: makeProblem({ message: 'The storage refused Streamdrop’s request. Check the keys, then switch again.' }),
    } satisfies AppStatus);
    await settle();
    expect(screen.getByTestId('app-status').textContent).toBe('Production could not start');
    expect(screen.getByTestId('notice-message').textContent).toContain(
      'The storage refused Streamdrop’s request. Check the keys, then switch again.',
    );
  });

  it('saves the preferences, marks a refused field, and says the running uploads follow', async () => {
    const saved: unknown[] = [];
    const { backend } = settingsBackend({
      get_preferences: () => ({ uploadConcurrency: 2, bandwidthLimit: null, limitDuring: null, linkLifetimeSecs: 86_400 }),
      set_preferences: (args) => {
        const { preferences } = args as { preferences: { uploadConcurrency: number } };
        saved.push(preferences);
        if (preferences.uploadConcurrency > 8) {
          return Promise.reject(
            makeProblem({
              code: 'bad-preference',
              message: 'Uploads at once must be from 1 to 8. Change it, then save again.',
              params: { setting: 'uploadConcurrency', rule: 'Uploads at once must be from 1 to 8.' },
              remedy: 'none',
              detail: null,
            }),
          );
        }
        return preferences;
      },
    });
    render(App);
    await settle();
    await openSettings();
    const form = screen.getByTestId('preferences');
    expect((within(form).getByTestId('pref-uploads') as HTMLInputElement).value).toBe('2');
    expect(within(form).queryByTestId('pref-limit-hours')).toBeNull();

    await fireEvent.input(within(form).getByTestId('pref-uploads'), { target: { value: '12' } });
    await fireEvent.submit(form);
    await settle();
    expect(within(form).getByTestId('pref-error-message').textContent).toBe(
      'Uploads at once must be from 1 to 8. Change it, then save again.',
    );
    expect(within(form).getByTestId('pref-uploads').getAttribute('aria-invalid')).toBe('true');

    await fireEvent.input(within(form).getByTestId('pref-uploads'), { target: { value: '3' } });
    await fireEvent.click(within(form).getByTestId('pref-limit-on'));
    await fireEvent.input(within(form).getByTestId('pref-limit'), { target: { value: '2.5' } });
    await fireEvent.click(within(form).getByTestId('pref-limit-hours'));
    await fireEvent.input(within(form).getByTestId('pref-limit-start'), { target: { value: '08:30' } });
    await fireEvent.change(within(form).getByTestId('pref-link-lifetime'), { target: { value: String(7 * 86_400) } });
    await fireEvent.submit(form);
    await settle();
    expect(saved[saved.length - 1]).toEqual({
      uploadConcurrency: 3,
      bandwidthLimit: 2_500_000,
      limitDuring: { start: '08:30', end: '18:00' },
      linkLifetimeSecs: 7 * 86_400,
    });
    expect(within(form).getByTestId('pref-saved').textContent).toBe('Saved. Uploads under way follow it now.');
    expect(within(form).queryByTestId('pref-error')).toBeNull();
    expect(backend.commands().filter((c) => c === 'set_preferences')).toHaveLength(2);
  });
});
