import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import { Provider } from 'react-redux';
import { makeStore } from '../../app/store';
import { json, mockFetch } from '../../test/http';
import { Composer, type ComposerProps } from './Composer';
import { draftChanged } from './draftsSlice';

afterEach(() => vi.unstubAllGlobals());

// jsdom has no ResizeObserver; the auto-sizing text area only needs it to exist.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

function setup(props: Partial<ComposerProps> = {}) {
  mockFetch(() => json(200, { items: [], next_cursor: null }));
  const store = makeStore();
  store.dispatch(draftChanged({ key: 'c1', text: 'what is a qubit' }));
  const onSend = vi.fn();
  render(
    <Provider store={store}>
      <Composer
        draftKey="c1"
        model="qwen-plus"
        canThink
        onModelChange={() => undefined}
        streaming={false}
        sending={false}
        onSend={onSend}
        onStop={() => undefined}
        {...props}
      />
    </Provider>,
  );
  return { onSend, box: screen.getByRole('textbox', { name: 'Message' }) };
}

describe('Composer keys', () => {
  it('sends on Enter at once, with the text as typed', () => {
    const { onSend, box } = setup();
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onSend).toHaveBeenCalledWith('what is a qubit', []);
  });

  it('keeps Shift+Enter for a new line and ignores Enter while an IME is composing', () => {
    const { onSend, box } = setup();
    fireEvent.keyDown(box, { key: 'Enter', shiftKey: true });
    fireEvent.keyDown(box, { key: 'Enter', isComposing: true });
    fireEvent.keyDown(box, { key: 'Enter', keyCode: 229 });
    expect(onSend).not.toHaveBeenCalled();
  });

  it('does not send while an answer streams', () => {
    const { onSend, box } = setup({ streaming: true });
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onSend).not.toHaveBeenCalled();
  });
});
