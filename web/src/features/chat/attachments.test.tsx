import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App } from 'antd';
import { Provider } from 'react-redux';
import { makeStore } from '../../app/store';
import { json, mockFetch } from '../../test/http';
import { Composer, type ComposerProps } from './Composer';
import { pictureFiles } from './uploads';

afterEach(() => vi.unstubAllGlobals());

globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

/** A fake XMLHttpRequest: records what is sent and answers when told to. */
class FakeXhr {
  static last: FakeXhr | null = null;
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  status = 0;
  responseText = '';
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: FormData | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(body: FormData) {
    this.body = body;
    FakeXhr.last = this;
  }
  answer(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

function png(name = 'shot.png') {
  return new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], name, { type: 'image/png' });
}

function setup(props: Partial<ComposerProps> = {}) {
  mockFetch(() => json(200, { items: [], next_cursor: null }));
  FakeXhr.last = null;
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
  URL.createObjectURL = vi.fn(() => 'blob:preview');
  URL.revokeObjectURL = vi.fn();
  const store = makeStore();
  const onSend = vi.fn();
  const onModelChange = vi.fn();
  render(
    <Provider store={store}>
      <App>
        <Composer
          draftKey="c1"
          model="qwen-vl-max"
          canThink={false}
          onModelChange={onModelChange}
          streaming={false}
          sending={false}
          onSend={onSend}
          onStop={() => undefined}
          acceptsImages
          visionModel="qwen-vl-max"
          {...props}
        />
      </App>
    </Provider>,
  );
  return { onSend, onModelChange, box: screen.getByRole('textbox', { name: 'Message' }) };
}

const UPLOAD = {
  id: 'up1',
  url: '/api/v1/files/up1',
  content_type: 'image/png',
  bytes: 4,
  width: 20,
  height: 20,
  name: 'shot.png',
  created_at: '2026-12-06T00:00:00Z',
};

describe('picture attachments', () => {
  it('keeps only picture files', () => {
    const text = new File(['x'], 'a.txt', { type: 'text/plain' });
    expect(pictureFiles([png(), text]).map((f) => f.name)).toEqual(['shot.png']);
    expect(pictureFiles(null)).toEqual([]);
  });

  it('uploads a pasted picture with progress, then sends its id', async () => {
    const { onSend, box } = setup();
    fireEvent.paste(box, { clipboardData: { files: [png()], getData: () => '' } });
    await waitFor(() => expect(FakeXhr.last).not.toBeNull());
    const xhr = FakeXhr.last!;
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe('/api/v1/files');
    expect(xhr.body?.get('file')).toBeInstanceOf(File);
    expect(screen.getAllByTestId('pending-attachment')).toHaveLength(1);
    act(() => xhr.upload.onprogress?.({ lengthComputable: true, loaded: 2, total: 4 }));
    expect(screen.getByRole('progressbar')).toBeTruthy();
    // Not sendable until the upload is stored.
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onSend).not.toHaveBeenCalled();
    act(() => xhr.answer(201, UPLOAD));
    await waitFor(() => expect(screen.queryByRole('progressbar')).toBeNull());
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onSend).toHaveBeenCalledWith('', [{ id: 'up1', url: '/api/v1/files/up1' }]);
    expect(screen.queryAllByTestId('pending-attachment')).toHaveLength(0);
  });

  it('takes dropped pictures and ignores other dropped files', async () => {
    setup();
    const zone = screen.getByTestId('composer');
    const text = new File(['x'], 'notes.txt', { type: 'text/plain' });
    fireEvent.dragOver(zone, { dataTransfer: { types: ['Files'], files: [] } });
    fireEvent.drop(zone, { dataTransfer: { types: ['Files'], files: [text, png('dropped.png')] } });
    await waitFor(() => expect(screen.getAllByTestId('pending-attachment')).toHaveLength(1));
    expect(screen.getByRole('button', { name: 'Remove dropped.png' })).toBeTruthy();
    expect(FakeXhr.last?.body?.get('file')).toHaveProperty('name', 'dropped.png');
  });

  it('a picture can be removed before sending', async () => {
    setup();
    fireEvent.change(screen.getByTestId('attach-input'), { target: { files: [png('a.png')] } });
    await waitFor(() => expect(screen.getAllByTestId('pending-attachment')).toHaveLength(1));
    fireEvent.click(screen.getByRole('button', { name: 'Remove a.png' }));
    expect(screen.queryAllByTestId('pending-attachment')).toHaveLength(0);
  });

  it('offers a vision model when the chosen one reads only text', async () => {
    const { onSend, onModelChange, box } = setup({ model: 'qwen-plus', acceptsImages: false });
    fireEvent.paste(box, { clipboardData: { files: [png()], getData: () => '' } });
    await waitFor(() => expect(FakeXhr.last).not.toBeNull());
    act(() => FakeXhr.last!.answer(201, UPLOAD));
    expect(await screen.findByText('qwen-plus cannot read images.')).toBeTruthy();
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onSend).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole('button', { name: 'Use qwen-vl-max' }));
    expect(onModelChange).toHaveBeenCalledWith('qwen-vl-max');
  });

  it('shows a refused upload and does not send', async () => {
    const { onSend, box } = setup();
    fireEvent.paste(box, { clipboardData: { files: [png()], getData: () => '' } });
    await waitFor(() => expect(FakeXhr.last).not.toBeNull());
    act(() =>
      FakeXhr.last!.answer(415, { error: { code: 'unsupported_image', message: 'no', request_id: 'r' } }),
    );
    expect(await screen.findByRole('alert', { name: 'That file is not a PNG, JPEG, WebP or GIF image.' })).toBeTruthy();
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onSend).not.toHaveBeenCalled();
  });
});
