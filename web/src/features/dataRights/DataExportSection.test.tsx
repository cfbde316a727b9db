import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App } from 'antd';
import { Provider } from 'react-redux';
import { makeStore } from '../../app/store';
import { json, mockFetch } from '../../test/http';
import { DataExportSection } from './DataExportSection';

afterEach(() => vi.unstubAllGlobals());

const base = {
  id: 'e1',
  bytes: 0,
  created_at: '2026-12-06T10:00:00.000Z',
  finished_at: null,
  expires_at: null,
  error_code: null,
  download_url: null,
};

describe('DataExportSection', { timeout: 60_000 }, () => {
  it('shows the progress of a running export, polls, then offers the download', async () => {
    let polls = 0;
    mockFetch((call) => {
      if (call.path === '/api/v1/users/me/exports' && call.method === 'GET') {
        polls += 1;
        const item =
          polls < 3
            ? { ...base, status: 'running', progress: 40 }
            : {
                ...base,
                status: 'ready',
                progress: 100,
                bytes: 20480,
                finished_at: '2026-12-06T10:00:05.000Z',
                expires_at: '2026-12-07T10:00:05.000Z',
                download_url: '/api/v1/users/me/exports/e1/download',
              };
        return json(200, { items: [item], next_cursor: null });
      }
      return json(404, { error: { code: 'not_found', message: 'No such resource.', request_id: 'r' } });
    });
    render(
      <Provider store={makeStore()}>
        <App>
          <DataExportSection />
        </App>
      </Provider>,
    );
    await screen.findByText('Making your export…');
    expect(screen.getByRole('button', { name: /Export my data/ })).toHaveProperty('disabled', true);
    await screen.findByTestId('export-download', {}, { timeout: 10_000 });
    expect(screen.getByText('Download ZIP (20 KB)')).toBeTruthy();
    expect(screen.getByText(/Your export is ready/)).toBeTruthy();
  });

  it('says so when an export is already being made (409)', async () => {
    const calls = mockFetch((call) => {
      if (call.method === 'POST')
        return json(409, { error: { code: 'export_in_progress', message: 'busy', request_id: 'r' } });
      return json(200, { items: [], next_cursor: null });
    });
    render(
      <Provider store={makeStore()}>
        <App>
          <DataExportSection />
        </App>
      </Provider>,
    );
    fireEvent.click(await screen.findByRole('button', { name: /Export my data/ }));
    await screen.findByText('An export is already being made.');
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/users/me/exports')).toBe(true));
  });
});
