import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App } from 'antd';
import { Provider } from 'react-redux';
import { makeStore } from '../../app/store';
import { json, mockFetch } from '../../test/http';
import { MfaSection } from './MfaSection';
import { isEnrollmentChallenge, isMfaChallenge, isTokens } from './mfaApi';

afterEach(() => vi.unstubAllGlobals());

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const CODES = Array.from({ length: 10 }, (_, i) => `aaaa-bbbb-cccc-dd${String.fromCharCode(97 + i)}${i % 8 + 2}`.slice(0, 19));

describe('MfaSection', { timeout: 60_000 }, () => {
  it('enrolls: QR code and key, a wrong code refused, then the recovery codes once', async () => {
    let enabled = false;
    const calls = mockFetch((call) => {
      if (call.path === '/api/v1/users/me/mfa') {
        return json(200, {
          totp_enabled: enabled,
          enrollment_pending: false,
          required: false,
          recovery_codes_left: enabled ? 10 : 0,
          enrolled_at: enabled ? '2026-12-06T10:00:00.000Z' : null,
        });
      }
      if (call.path === '/api/v1/users/me/mfa/totp' && call.method === 'POST') {
        return json(200, { secret: SECRET, otpauth_uri: `otpauth://totp/Bailian%20Hub:ann?secret=${SECRET}&issuer=Bailian%20Hub` });
      }
      if (call.path === '/api/v1/users/me/mfa/totp/confirm') {
        if (JSON.parse(call.body).code !== '123456')
          return json(403, { error: { code: 'invalid_mfa_code', message: 'The code is not valid.', request_id: 'r' } });
        enabled = true;
        return json(200, { recovery_codes: CODES });
      }
      return json(404, { error: { code: 'not_found', message: 'No such resource.', request_id: 'r' } });
    });
    render(
      <Provider store={makeStore()}>
        <App>
          <MfaSection />
        </App>
      </Provider>,
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Set up authenticator app' }));
    expect((await screen.findByTestId('totp-secret')).textContent).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    const qr = await screen.findByRole('img', { name: 'QR code for your authenticator app' });
    expect(qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    const field = screen.getByLabelText('6-digit code');
    expect(field.getAttribute('autocomplete')).toBe('one-time-code');
    // Letters are dropped as they are typed; six digits at most.
    fireEvent.change(field, { target: { value: '65a43210' } });
    await waitFor(() => expect((field as HTMLInputElement).value).toBe('654321'));
    fireEvent.click(screen.getByRole('button', { name: 'Turn on' }));
    await screen.findByText('That code is not valid. Enter the current code from your app.');
    fireEvent.change(field, { target: { value: '123456' } });
    fireEvent.click(screen.getByRole('button', { name: 'Turn on' }));
    const list = await screen.findByTestId('recovery-codes');
    expect(list.querySelectorAll('li')).toHaveLength(10);
    expect(list.textContent).toContain(CODES[0]);
    fireEvent.click(screen.getByRole('button', { name: 'I have saved them' }));
    await screen.findByText(/10 recovery codes left/);
    expect(screen.queryByTestId('recovery-codes')).toBeNull();
    expect(calls.filter((c) => c.path === '/api/v1/users/me/mfa/totp/confirm')).toHaveLength(2);
  });
});

describe('login answers', () => {
  it('tells tokens, a code step and an enrollment step apart', () => {
    const challenge = { mfa_required: true as const, mfa_token: 't', methods: ['totp' as const], expires_in: 300 };
    const enroll = { mfa_enrollment_required: true as const, mfa_token: 't', methods: ['totp' as const], expires_in: 300 };
    expect(isMfaChallenge(challenge)).toBe(true);
    expect(isTokens(challenge)).toBe(false);
    expect(isEnrollmentChallenge(enroll)).toBe(true);
    expect(isMfaChallenge(enroll)).toBe(false);
  });
});
