import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App } from 'antd';
import type { ApiError } from '../../lib/apiError';
import { LimitsDialog } from './LimitsDialog';
import { USER_LIMIT_FIELDS, type UserQuota } from './limitRules';

const stored: UserQuota = { rpm: 600, tpm: null, daily_tokens: 10_000_000, monthly_tokens: null, daily_cost_cny: 0.001, monthly_cost_cny: 300 };

function setup(onSave: (v: UserQuota) => Promise<unknown>) {
  const onClose = vi.fn();
  render(
    <App>
      <LimitsDialog
        initial={stored}
        title="Limits of alice"
        hint="hint"
        emptyText="Role default"
        groups={[{ fields: USER_LIMIT_FIELDS }]}
        savedText="Saved"
        onSave={onSave}
        onClose={onClose}
      />
    </App>,
  );
  const input = (name: string) => screen.getByLabelText(name) as HTMLInputElement;
  const save = () => fireEvent.click(screen.getByRole('button', { name: /Save/ }));
  return { onClose, input, save };
}

describe('LimitsDialog', { timeout: 60_000 }, () => {
  it('shows the stored values, sends all of them with the changes, and closes', async () => {
    const onSave = vi.fn(async () => undefined);
    const { input, save, onClose } = setup(onSave);
    expect(input('Requests per minute').value).toBe('600');
    expect(input('Tokens per minute').value).toBe('');
    expect(input('Tokens per minute').placeholder).toBe('Role default');
    fireEvent.change(input('Tokens per minute'), { target: { value: '100,000' } });
    fireEvent.change(input('Requests per minute'), { target: { value: '' } });
    save();
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    // 0.001 CNY was stored before (more decimals than the form takes) and was left alone: kept.
    expect(onSave).toHaveBeenCalledWith({ ...stored, rpm: null, tpm: 100_000 });
  });

  it('an invalid value is shown on its field and nothing is sent', async () => {
    const onSave = vi.fn(async () => undefined);
    const { input, save } = setup(onSave);
    fireEvent.change(input('Tokens per day'), { target: { value: '1.5' } });
    fireEvent.change(input('Cost per month (CNY)'), { target: { value: '12.345' } });
    save();
    await screen.findByText('Enter a whole number, e.g. 600.');
    await screen.findByText('At most 2 decimals.');
    expect(onSave).not.toHaveBeenCalled();
  });

  it("a server 400 naming a field lands on that field; the dialog stays open", async () => {
    const err: ApiError = {
      status: 400,
      code: 'validation_failed',
      message: 'quota.monthly_tokens must be a whole number from 1 to 1000000000, or null for the default.',
    };
    const { input, save, onClose } = setup(async () => Promise.reject(err));
    fireEvent.change(input('Tokens per month'), { target: { value: '5' } });
    save();
    await screen.findByText('Enter a whole number from 1 to 1,000,000,000, or leave it empty.');
    expect(onClose).not.toHaveBeenCalled();
  });
});
