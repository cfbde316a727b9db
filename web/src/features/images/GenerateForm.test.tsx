import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App, Form } from 'antd';
import { Provider } from 'react-redux';
import { makeStore } from '../../app/store';
import { json, mockFetch, type Call } from '../../test/http';
import type { ImageFormValues } from './form';
import { GenerateForm } from './GenerateForm';

afterEach(() => vi.unstubAllGlobals());

globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

const spec = (max_n: number) => ({
  sizes: ['1024*1024', '720*1280'],
  default_size: '1024*1024',
  max_n,
  max_prompt_chars: 20,
  max_negative_prompt_chars: 10,
});
const models = [
  { id: 'qwen-plus', kind: 'chat', enabled: true },
  { id: 'wanx-v1', kind: 'image', enabled: true, prices: { currency: 'CNY', per_image: 0.16 }, image: spec(4) },
  { id: 'wan2.2-t2i-flash', kind: 'image', enabled: true, prices: { currency: 'CNY', per_image: 0.14 }, image: spec(2) },
];

let formRef: ReturnType<typeof Form.useForm<ImageFormValues>>[0] | undefined;
function Harness() {
  const [form] = Form.useForm<ImageFormValues>();
  formRef = form;
  return <GenerateForm form={form} />;
}

function setup(post: (call: Call) => Response = () => json(202, { id: 'g1', status: 'pending', images: [] })) {
  const calls = mockFetch((call) => {
    if (call.path.startsWith('/api/v1/models')) return json(200, { items: models, next_cursor: null });
    if (call.method === 'POST') return post(call);
    return json(200, { items: [], next_cursor: null });
  });
  render(
    <Provider store={makeStore()}>
      <App>
        <Harness />
      </App>
    </Provider>,
  );
  return { calls, prompt: screen.getByRole('textbox', { name: 'Prompt' }), button: screen.getByRole('button', { name: /Generate/ }) };
}

describe('GenerateForm', { timeout: 60_000 }, () => {
  it('starts with wan2.2-t2i-flash and its limits; Generate waits for a prompt within them', async () => {
    const { prompt, button } = setup();
    await waitFor(() => expect(formRef?.getFieldValue('model')).toBe('wan2.2-t2i-flash'));
    expect(formRef?.getFieldValue('size')).toBe('1024*1024');
    expect(screen.getAllByRole('radio')).toHaveLength(2); // max_n of the model
    expect(screen.getByText('0 / 20')).toBeTruthy();
    expect(button).toHaveProperty('disabled', true);
    fireEvent.change(prompt, { target: { value: 'a fox' } });
    await waitFor(() => expect(button).toHaveProperty('disabled', false));
    expect(screen.getByText(/About .*0\.14 for 1 image/)).toBeTruthy();
    fireEvent.change(prompt, { target: { value: 'x'.repeat(21) } });
    await screen.findByText('At most 20 characters');
    expect(button).toHaveProperty('disabled', true);
  });

  it('sends what was chosen and shows a refusal from the server', async () => {
    const { calls, prompt, button } = setup(() =>
      json(400, { error: { code: 'validation_failed', message: 'size is not offered by this model', request_id: 'r1' } }),
    );
    await waitFor(() => expect(formRef?.getFieldValue('model')).toBe('wan2.2-t2i-flash'));
    act(() => formRef?.setFieldsValue({ size: '720*1280', n: 2, seed: 7, negativePrompt: 'blur' }));
    fireEvent.change(prompt, { target: { value: ' a fox ' } });
    await waitFor(() => expect(button).toHaveProperty('disabled', false));
    fireEvent.click(button);
    await screen.findByText('size is not offered by this model');
    const post = calls.find((c) => c.method === 'POST');
    expect(JSON.parse(post?.body ?? '{}')).toEqual({
      prompt: 'a fox',
      negative_prompt: 'blur',
      model: 'wan2.2-t2i-flash',
      size: '720*1280',
      n: 2,
      seed: 7,
    });
  });
});
